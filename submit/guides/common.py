"""Contents both guides share: the study's identity, the standards inventory, the dataset overview
and the data conformance summary (every finding of the build's validation report with the study's
explanation)."""

from __future__ import annotations

import pandas as pd

from submit.guides.inputs import GuideInputs
from submit.guides.model import Block, Heading, Paragraph, Table
from submit.spec.model import Dataset

DETAIL_ROWS = 25  # issue records shown per finding in the appendix; the rest are in qc/validation.xlsx
CT_NAME = {"SDTM": "SDTM", "ADaM": "ADaM and SDTM"}


def subjects(df: pd.DataFrame) -> str:
    return str(df["USUBJID"].nunique()) if "USUBJID" in df.columns else ""


def datasets_in_order(g: GuideInputs) -> list[Dataset]:
    """The layer's datasets that were built, in the spec's order (then by name)."""
    return sorted((d for d in g.spec.datasets if d.name in g.frames), key=lambda d: (d.order or 10_000, d.name))


def protocol(g: GuideInputs) -> list[Block]:
    info, ts = g.study.study, g.frames.get("TS")
    registry = info.registry_id or _ts_value(ts, "REGID")
    rows = [("Study identifier (STUDYID)", info.id), ("Protocol", g.spec.study.protocol or info.id),
            ("Title", " ".join(info.title.split())), ("Sponsor", info.sponsor), ("Phase", info.phase),
            ("Indication", info.indication or _ts_value(ts, "INDIC")), ("Study treatment", info.drug or _ts_value(ts, "TRT")),
            ("Registry identifier", registry), ("Data cut-off", g.study.dates.data_cutoff.isoformat()),
            ("Package built", g.study.dates.build_date.isoformat())]
    return [Table(("Item", "Value"), tuple((k, v) for k, v in rows if v), (1, 3))]


def _ts_value(ts: pd.DataFrame | None, parmcd: str) -> str:
    if ts is None or "TSPARMCD" not in ts.columns:
        return ""
    values = ts.loc[ts["TSPARMCD"] == parmcd]
    if values.empty:
        return ""
    row = values.iloc[0]
    return str(row.get("TSVAL") or row.get("TSVALCD") or "")


def standards(g: GuideInputs) -> list[Block]:
    s = g.study.standards
    rows = []
    if g.standard == "ADaM":
        rows.append(("Analysis data", f"CDISC ADaM Implementation Guide {g.spec.study.standard_version}"))
        rows.append(("Source tabulation data", f"CDISC SDTM Implementation Guide {s.sdtmig}"))
    else:
        rows.append(("Tabulation data", f"CDISC SDTM Implementation Guide {g.spec.study.standard_version}"))
    rows.append(("Controlled terminology", f"CDISC {CT_NAME[g.standard]} Controlled Terminology {s.ct}"))
    rows.append(("Data definitions", f"CDISC Define-XML {s.define_xml}"))
    named = set()
    for d in sorted(g.spec.dictionaries, key=lambda d: d.dictionary):
        if d.dictionary not in named:
            named.add(d.dictionary)
            rows.append((_dictionary_use(d.dictionary), f"{d.dictionary} {d.version}"))
    if s.meddra and "MedDRA" not in named:
        rows.append((_dictionary_use("MedDRA"), f"MedDRA {s.meddra}"))
    if s.ctcae:
        rows.append(("Toxicity grading", f"NCI CTCAE {s.ctcae}"))
    rows.append(("Conformance check", f"submit validate {g.version} ({len(g.rules())} rules on {g.standard} "
                                      "and the package)"))
    return [Table(("Standard or dictionary", "Version used"), tuple(rows), (1, 2))]


def _dictionary_use(name: str) -> str:
    return {"MedDRA": "Medical events dictionary", "WHODrug": "Medications dictionary",
            "ISO 3166": "Country codes"}.get(name, "Dictionary")


def dataset_overview(g: GuideInputs) -> list[Block]:
    """One row per dataset; SDTM adds whether the domain has supplemental qualifiers (SUPP--)."""
    sdtm = g.standard == "SDTM"
    rows = []
    for d in datasets_in_order(g):
        df = g.frames[d.name]
        cls = d.cls + (f" ({d.subclass})" if d.subclass else "")
        supp = (("Yes" if f"SUPP{d.name}" in g.frames else "No"),) if sdtm else ()
        rows.append((d.name, d.label, cls, d.structure, " ".join(d.keys), str(len(df)), subjects(df), *supp))
    columns = ("Dataset", "Label", "Class", "Structure", "Key variables", "Records", "Subjects")
    widths = (0.8, 1.5, 1.6, 1.6, 1.5, 0.8, 0.8)
    return [Table(columns + (("SUPP--",) if sdtm else ()), tuple(rows), widths + ((0.7,) if sdtm else ()))]


def conformance_inputs(g: GuideInputs) -> list[Block]:
    summary = g.report.get("summary", {})
    metadata = summary.get("metadata", {}).get(g.standard, "")
    rows = [("Validator", f"submit validate {g.version}, run by the build on the package as published"),
            ("Rules", f"{len(g.rules())} ({g.standard} and package-level rules; each carries its CDISC, FDA "
                      "and Pinnacle 21 ids where one exists)"),
            ("Controlled terminology", f"CDISC CT {g.study.standards.ct}"),
            ("Metadata checked against", metadata or "the study's specs"),
            ("Report", "qc/validation.json and qc/validation.xlsx of the package"),
            ("Report date", str(g.report.get("date", "")))]
    return [Table(("Input", "Value"), tuple(rows), (1, 3))]


def findings(g: GuideInputs) -> list[Block]:
    found = g.findings()
    severities = pd.Series([f.severity for f in found], dtype=object).value_counts()
    if not found:
        return [Paragraph(f"The validation of this package reports no {g.standard} or package-level finding.")]
    intro = (f"The validation of this package reports {len(found)} {g.standard} or package-level finding(s): "
             + ", ".join(f"{severities[k]} {k.lower()}{'s' if severities[k] > 1 else ''}" for k in sorted(severities.index))
             + ". A build with errors is not published, so none remain. Each finding is listed with the sponsor's "
               "explanation.")
    rows = tuple((f.rule, " / ".join(x for x in (f.cdisc, f.p21) if x), f.severity, f.dataset, f.message, str(f.count),
                  f.explanation) for f in found)
    return [Paragraph(intro), Table(("Rule", "CDISC / P21 id", "Severity", "Dataset", "Message", "Count", "Explanation"),
                                    rows, (1.3, 1.0, 0.8, 0.7, 1.6, 0.6, 3.1))]


def finding_details(g: GuideInputs) -> list[Block]:
    """The records behind each finding (the first DETAIL_ROWS of each)."""
    blocks: list[Block] = []
    for f in g.findings():
        issues = g.issues(f.rule, f.dataset)
        blocks.append(Heading("", f"{f.rule} in {f.dataset}: {f.message}", 2))
        rows = tuple((str(i.get("row") or ""), str(i.get("usubjid") or ""), str(i.get("variable") or ""),
                      str(i.get("value") if i.get("value") is not None else ""), str(i.get("detail") or ""))
                     for i in issues[:DETAIL_ROWS])
        blocks.append(Table(("Row", "USUBJID", "Variable", "Value", "Detail"), rows, (0.6, 1.4, 1.0, 1.4, 2.6)))
        if len(issues) > DETAIL_ROWS:
            blocks.append(Paragraph(f"{len(issues) - DETAIL_ROWS} more record(s) of this finding are listed in "
                                    "qc/validation.xlsx."))
    if not blocks:
        blocks.append(Paragraph("No finding to detail."))
    return blocks
