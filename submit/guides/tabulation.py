"""Contents of the clinical Study Data Reviewer's Guide (cSDRG), from the SDTM as built and its
metadata: arms and trial design, subject data flow (SE, SV, EPOCH), split datasets, supplemental
qualifiers and the dataset appendix."""

from __future__ import annotations

import pandas as pd

from submit.guides import common
from submit.guides.inputs import GuideInputs
from submit.guides.model import Block, Heading, Paragraph, Table

TRIAL_DESIGN = {"TA": "Trial Arms", "TE": "Trial Elements", "TV": "Trial Visits", "TD": "Trial Disease Assessments",
                "TM": "Trial Disease Milestones", "TI": "Trial Inclusion/Exclusion Criteria", "TS": "Trial Summary"}
NOT_SPLIT = ("RELREC",)  # datasets whose DOMAIN differs from their name by definition


def _counts(df: pd.DataFrame, by: str) -> pd.Series:
    return df.drop_duplicates(["USUBJID", by])[by].value_counts() if by in df.columns else pd.Series(dtype=int)


def arms(g: GuideInputs) -> list[Block]:
    """Planned arms (TA) with the subjects assigned (DM.ARMCD) and treated as (DM.ACTARMCD)."""
    ta, dm = g.frames.get("TA"), g.frames.get("DM")
    if dm is None:
        return [Paragraph("The package has no DM dataset.")]
    planned, actual = _counts(dm, "ARMCD"), _counts(dm, "ACTARMCD")
    if ta is not None and not ta.empty:
        ta = ta.sort_values(["ARMCD", "TAETORD"])
        epochs = ta.groupby("ARMCD", sort=False)["EPOCH"].agg(lambda s: " > ".join(s[s.ne(s.shift())]))
        arm = ta.groupby("ARMCD", sort=False).agg(ARM=("ARM", "first"), elements=("ETCD", "size"))
        rows = tuple((code, arm.at[code, "ARM"], epochs[code], str(arm.at[code, "elements"]),
                      str(planned.get(code, 0)), str(actual.get(code, 0))) for code in arm.index)
        note = f"TA describes {len(arm)} planned arm(s) in {len(ta)} records."
    else:
        arm = dm.drop_duplicates("ARMCD").set_index("ARMCD")["ARM"].sort_index()
        rows = tuple((code, arm[code], "", "", str(planned.get(code, 0)), str(actual.get(code, 0))) for code in arm.index)
        note = "The package has no TA dataset: the arms are those of DM."
    return [Paragraph(note), Table(("ARMCD", "ARM", "Epochs in order", "Elements", "Subjects (ARMCD)",
                                    "Subjects (ACTARMCD)"), rows, (1, 2.2, 2.6, 0.9, 0.9, 1.0))]


def trial_design(g: GuideInputs) -> list[Block]:
    blocks: list[Block] = []
    present = [d for d in TRIAL_DESIGN if d in g.frames]
    missing = [d for d in TRIAL_DESIGN if d not in g.frames]
    blocks.append(Paragraph("Trial design datasets in the package: " + (", ".join(
        f"{d} ({len(g.frames[d])} records)" for d in present) or "none") + "."
        + (f" Not included: {', '.join(missing)}." if missing else "")))
    for name in present:
        df = g.frames[name]
        blocks.append(Heading("", f"{name} – {TRIAL_DESIGN[name]}", 2))
        if name == "TA":
            blocks.append(Paragraph("Arms, their epochs and subject counts are in Protocol Design; the element "
                                    "sequence of each arm is in TA itself (TAETORD, TABRANCH, TATRANS)."))
        elif name == "TE":
            blocks.append(_columns_table(df, ("ETCD", "ELEMENT", "TESTRL", "TEENRL", "TEDUR"), (0.8, 1.6, 2.2, 2.2, 0.6)))
        elif name == "TV":
            numbers = pd.to_numeric(df["VISITNUM"], errors="coerce")
            blocks.append(Paragraph(f"{df['VISITNUM'].nunique()} planned visits, VISITNUM {_cell(numbers.min())} to "
                                    f"{_cell(numbers.max())}; each with the subjects who attended it in Subject "
                                    "Visits (Subject Data Flow) and with its start rule (TVSTRL) in TV."))
        elif name == "TI":
            blocks.append(Paragraph(f"{len(df)} inclusion/exclusion criteria; listed in the appendix."))
        elif name == "TS":
            blocks.append(_columns_table(df, ("TSSEQ", "TSPARMCD", "TSPARM", "TSVAL", "TSVALNF", "TSVALCD"),
                                         (0.6, 0.9, 1.8, 2.4, 0.8, 1.0)))
        else:
            blocks.append(Paragraph(f"{len(df)} records."))
    return blocks


def _columns_table(df: pd.DataFrame, wanted: tuple[str, ...], widths: tuple[float, ...]) -> Table:
    keep = [(c, w) for c, w in zip(wanted, widths) if c in df.columns]
    columns = tuple(c for c, _ in keep)
    text = df[list(columns)].astype(object).where(df[list(columns)].notna(), "")
    rows = tuple(tuple(_cell(v) for v in row) for row in text.itertuples(index=False))
    return Table(columns, rows, tuple(w for _, w in keep))


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def data_flow(g: GuideInputs) -> list[Block]:
    """How subjects move through the study: elements (SE), visits (SV) and EPOCH of the records."""
    blocks: list[Block] = []
    se, sv = g.frames.get("SE"), g.frames.get("SV")
    blocks.append(Heading("", "Subject Elements (SE)", 2))
    if se is not None and not se.empty:
        by = se.groupby(["ETCD", "ELEMENT"], sort=False).agg(records=("USUBJID", "size"), subjects=("USUBJID", "nunique"))
        epoch = se.groupby(["ETCD", "ELEMENT"], sort=False)["EPOCH"].agg(lambda s: ", ".join(sorted(set(s.dropna()))))
        rows = tuple((etcd, element, epoch[(etcd, element)], str(r.records), str(r.subjects))
                     for (etcd, element), r in by.iterrows())
        blocks.append(Table(("ETCD", "ELEMENT", "EPOCH", "Records", "Subjects"), rows, (0.8, 2.2, 1.6, 0.7, 0.7)))
    else:
        blocks.append(Paragraph("The package has no SE dataset."))
    blocks.append(Heading("", "Subject Visits (SV)", 2))
    if sv is not None and not sv.empty:
        planned = set(g.frames["TV"]["VISITNUM"]) if "TV" in g.frames else set()
        by = sv.groupby(["VISITNUM", "VISIT"], sort=True).agg(subjects=("USUBJID", "nunique"))
        rows = tuple((_cell(num), visit, "Yes" if num in planned else "No", str(r.subjects))
                     for (num, visit), r in by.iterrows())
        blocks.append(Paragraph(f"SV holds {len(sv)} visits of {sv['USUBJID'].nunique()} subjects at "
                                f"{len(by)} distinct visits; visits not planned in TV are unscheduled."))
        blocks.append(Table(("VISITNUM", "VISIT", "Planned in TV", "Subjects"), rows, (0.8, 2.4, 0.9, 0.8)))
    else:
        blocks.append(Paragraph("The package has no SV dataset."))
    blocks.append(Heading("", "EPOCH of the Subject Records", 2))
    rows = []
    for d in common.datasets_in_order(g):
        df = g.frames[d.name]
        if {"EPOCH", "USUBJID"} <= set(df.columns) and not df.empty:  # subject records, not trial design
            counts = df["EPOCH"].fillna("").replace("", "(missing)").value_counts().sort_index()
            rows.append((d.name, "; ".join(f"{k} {v}" for k, v in counts.items())))
    blocks.append(Table(("Dataset", "Records by EPOCH"), tuple(rows), (0.8, 5)) if rows
                  else Paragraph("No dataset carries EPOCH."))
    return blocks


def split_datasets(g: GuideInputs) -> list[Block]:
    """Datasets holding part of a domain: their DOMAIN differs from the dataset name (SDTMIG 4.1.7)."""
    rows = []
    for name, df in sorted(g.frames.items()):
        if "DOMAIN" in df.columns and not name.startswith("SUPP") and name not in NOT_SPLIT:
            domains = sorted(set(df["DOMAIN"].dropna()) - {name})
            if domains:
                rows.append((name, ", ".join(domains), str(len(df))))
    if not rows:
        return [Paragraph("No dataset is split: every domain is submitted as one dataset.")]
    return [Table(("Dataset", "DOMAIN", "Records"), tuple(rows), (1, 1, 1))]


def supplemental_qualifiers(g: GuideInputs) -> list[Block]:
    rows = []
    for name in sorted(n for n in g.frames if n.startswith("SUPP")):
        df = g.frames[name]
        if {"QNAM", "QLABEL"} <= set(df.columns):
            by = df.groupby(["RDOMAIN", "QNAM", "QLABEL"], dropna=False, sort=True).agg(
                records=("QNAM", "size"), idvar=("IDVAR", lambda s: ", ".join(sorted(set(s.dropna()) - {""})) or "(subject)"),
                qorig=("QORIG", lambda s: ", ".join(sorted(set(s.dropna())))))
            rows += [(name, rdomain, qnam, qlabel, r.idvar, r.qorig, str(r.records))
                     for (rdomain, qnam, qlabel), r in by.iterrows()]
    if not rows:
        return [Paragraph("The package has no supplemental qualifier (SUPP--) dataset.")]
    return [Table(("Dataset", "RDOMAIN", "QNAM", "QLABEL", "IDVAR", "QORIG", "Records"), tuple(rows),
                  (0.9, 0.8, 0.9, 2.2, 0.8, 0.9, 0.7))]


def inclusion_exclusion(g: GuideInputs) -> list[Block]:
    ti = g.frames.get("TI")
    if ti is None or ti.empty:
        return [Paragraph("The package has no TI dataset.")]
    return [_columns_table(ti, ("IETESTCD", "IETEST", "IECAT", "TIVERS"), (1, 4, 1, 0.6))]


def dataset_details(g: GuideInputs) -> list[Block]:
    """Per dataset: its file, variables, supplemental qualifiers and the spec's comment."""
    comments = {c.id: c.description for c in g.spec.comments}
    rows = []
    for d in common.datasets_in_order(g):
        df = g.frames[d.name]
        supp = f"SUPP{d.name}" if f"SUPP{d.name}" in g.frames else ""
        rows.append((d.name, f"{d.name.lower()}.xpt", str(df.shape[1]), str(len(df)), common.subjects(df),
                     supp, comments.get(d.comment, "")))
    return [Table(("Dataset", "File", "Variables", "Records", "Subjects", "Supplemental", "Comment"), tuple(rows),
                  (0.8, 1.0, 0.8, 0.8, 0.8, 1.0, 2.6))]


CONTENTS = {"protocol": common.protocol, "standards": common.standards, "arms": arms, "trial_design": trial_design,
            "datasets": common.dataset_overview, "data_flow": data_flow, "split_datasets": split_datasets,
            "supplemental_qualifiers": supplemental_qualifiers, "conformance_inputs": common.conformance_inputs,
            "findings": common.findings, "finding_details": common.finding_details,
            "inclusion_exclusion": inclusion_exclusion, "dataset_details": dataset_details}
