"""Which analysis computes each output: output id -> function(data, shell) returning the ARD
(table), the listing frame (listing) or the Kaplan-Meier curves (figure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from submit.errors import DataCheckError, InputError, Problem, SubmitError
from submit.tlf.analysis import efficacy, listings, pkpd, safety, study
from submit.tlf.analysis.data import AdamData

Analysis = Callable[[AdamData, object], object]

ANALYSES: Mapping[str, Analysis] = {
    "14.1.1": study.disposition,
    "14.1.2": study.demographics,
    "14.1.3": study.exposure,
    "14.2.1.1": efficacy.response("14.2.1.1", "CRCRH", best_response=True),
    "14.2.1.2": efficacy.response("14.2.1.2", "CR"),
    "14.2.1.3": efficacy.response("14.2.1.3", "CRH"),
    "14.2.1.4": efficacy.response("14.2.1.4", "PR"),
    "14.2.2": efficacy.rate_with_responders("14.2.2", "MRDRESP"),
    "14.2.3": efficacy.rate_with_responders("14.2.3", "HSCT"),
    "14.2.4.1": efficacy.survival_table("14.2.4.1", "TTHR"),
    "14.2.4.2": efficacy.survival_figure("TTHR"),
    "14.2.5.1": efficacy.survival_table("14.2.5.1", "RFS"),
    "14.2.5.2": efficacy.survival_figure("RFS"),
    "14.2.6.1": efficacy.survival_table("14.2.6.1", "OS"),
    "14.2.6.2": efficacy.survival_figure("OS"),
    "14.3.1.1": safety.overview,
    "14.3.1.2": safety.soc_pt("14.3.1.2"),
    "14.3.1.3": safety.by_worst_grade,
    "14.3.1.4": safety.soc_pt("14.3.1.4", lambda ae: ae["AESER"] == "Y", "serious TEAEs"),
    "14.3.1.5": safety.soc_pt("14.3.1.5", lambda ae: ae["AREL"] == "RELATED", "related TEAEs"),
    "14.4.1": pkpd.pk_parameter("14.4.1", "CSS"),
    "14.4.2": pkpd.pk_parameter("14.4.2", "CL"),
    "14.4.3": pkpd.cytokine_peaks,
    "16.2.6.1": listings.response,
    "16.2.7.1": listings.deaths,
    "16.2.7.2": listings.serious_adverse_events,
}


def analyze(data: AdamData, shells: Sequence, analyses: Mapping[str, Analysis] = ANALYSES) -> dict[str, object]:
    """The result of every shell, keyed by output id. Every problem of every output is reported at
    once (a problem shared by several outputs once, naming them): a shell without an analysis,
    missing datasets or variables, data failing a check."""
    results: dict[str, object] = {}
    outputs_of: dict[Problem, list[str]] = {}
    data_problems = False
    for shell in shells:
        analysis = analyses.get(shell.id)
        if analysis is None:
            outputs_of.setdefault(Problem(shell.source or "TLF shells", "no analysis computes this output"),
                                  []).append(shell.id)
            continue
        try:
            results[shell.id] = analysis(data, shell)
        except SubmitError as exc:
            data_problems |= isinstance(exc, DataCheckError)
            for problem in exc.problems or [Problem(shell.source or shell.id, exc.summary)]:
                outputs_of.setdefault(problem, []).append(shell.id)
    if outputs_of:
        error = DataCheckError if data_problems else InputError
        raise error("TLF analyses cannot be computed from the ADaM data",
                    [Problem(p.file, f"{p.message} (output {', '.join(ids)})", p.row, p.column, p.key)
                     for p, ids in outputs_of.items()])
    return results
