"""The closed vocabulary of TLF analyses: kind -> function(data, shell, **params) returning the ARD
(table), the listing frame (listing) or the Kaplan-Meier curves (figure).

A shell names its analysis and gives its parameters, e.g. `analysis: {kind: response_rate,
paramcd: CR}`. Before anything is computed, every shell's kind and parameters are checked against
the function's signature (names, required ones, types); the function reads the output id and
everything else it shows from the shell. No study fact lives here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from submit.errors import DataCheckError, InputError, Problem, SubmitError
from submit.tlf.analysis import grades, layers, listing_frame, records, shift, survival, visits
from submit.tlf.analysis.data import AdamData

Analysis = Callable[..., object]

ANALYSES: Mapping[str, Analysis] = {fn.__name__: fn for fn in (
    layers.summary, grades.worst_grade, shift.shift, visits.by_visit,
    survival.time_to_event, survival.km_figure, records.records_summary, listing_frame.listing,
)}


@lru_cache(maxsize=None)
def _parameters(fn: Analysis) -> dict[str, tuple[TypeAdapter, bool]]:
    """name -> (validator of its annotation, required) for the parameters after (data, shell)."""
    sig = inspect.signature(fn, eval_str=True)
    return {p.name: (TypeAdapter(Any if p.annotation is inspect.Parameter.empty else p.annotation),
                     p.default is inspect.Parameter.empty)
            for p in list(sig.parameters.values())[2:]}


def bound_parameters(shell, analyses: Mapping[str, Analysis] = ANALYSES) -> tuple[Analysis | None, dict, list[Problem]]:
    """(function, validated parameters, problems) of the shell's `analysis`: an unknown kind, an
    unknown, missing or ill-typed parameter, each naming the shell file and output id."""
    where, key = shell.source or "TLF shells", f"id {shell.id}.analysis"
    spec = shell.analysis
    if spec is None:
        known = ", ".join(sorted(analyses))
        return None, {}, [Problem(where, f"no analysis computes this output: give analysis: {{kind: ...}} "
                                         f"(kinds: {known})", key=key)]
    fn = analyses.get(spec.kind)
    if fn is None:
        return None, {}, [Problem(where, f"unknown analysis kind {spec.kind!r} (kinds: {', '.join(sorted(analyses))})",
                                  key=f"{key}.kind")]
    accepted = _parameters(fn)
    given = spec.params
    problems = [Problem(where, f"{spec.kind}: unknown parameter {name!r} (accepted: {', '.join(accepted) or 'none'})",
                        key=f"{key}.{name}") for name in given if name not in accepted]
    problems += [Problem(where, f"{spec.kind}: parameter {name!r} is required", key=f"{key}.{name}")
                 for name, (_, required) in accepted.items() if required and name not in given]
    values = {}
    for name, value in given.items():
        if name not in accepted:
            continue
        try:
            values[name] = accepted[name][0].validate_python(value)
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
            problems.append(Problem(where, f"{spec.kind}: parameter {name!r} = {value!r} is invalid ({reasons})",
                                    key=f"{key}.{name}"))
    return fn, values, problems


def analyze(data: AdamData, shells: Sequence, analyses: Mapping[str, Analysis] = ANALYSES) -> dict[str, object]:
    """The result of every shell, keyed by output id. The shells' analyses are checked first (all
    problems at once); then every problem of every output is reported at once (a problem shared by
    several outputs once, naming them): missing datasets or variables, data failing a check."""
    bound = [(shell, *bound_parameters(shell, analyses)) for shell in shells]
    spec_problems = [p for _, _, _, problems in bound for p in problems]
    if spec_problems:
        raise InputError("TLF shells name analyses that cannot be run", spec_problems)
    results: dict[str, object] = {}
    outputs_of: dict[Problem, list[str]] = {}
    data_problems = False
    for shell, fn, params, _ in bound:
        try:
            results[shell.id] = fn(data, shell, **params)
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
