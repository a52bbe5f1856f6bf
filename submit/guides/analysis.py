"""Contents of the Analysis Data Reviewer's Guide (ADRG), from the ADaM as built, its define
metadata (methods, value-level metadata, comments) and the study's derivation specs: populations,
treatment variables, imputation, parameters, derivation highlights, sources and the program inventory."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pandas as pd

from submit.guides import common
from submit.guides.inputs import GuideInputs
from submit.guides.model import Block, Heading, Paragraph, Table
from submit.spec.model import Method, WhereClause
from submit.yaml_load import load_yaml

# ADaMIG names of the subject-level treatment and treatment-date variables (xx = period)
TREATMENT = re.compile(r"^(ARM|ARMCD|ACTARM|ACTARMCD|TRT\d\d[PA]N?|TRTSEQ[PA]N?|TRT[SE]DTM?|TR\d\d[SE]DTM?|TRTDURD?)$")
IMPUTATION_FLAG = re.compile(r"^\w+(DTF|TMF)$")
MAX_LEVELS = 12  # values shown with counts; more are summarised
OPERATORS = {"EQ": "=", "NE": "≠", "IN": "in", "NOTIN": "not in", "LT": "<", "LE": "≤", "GT": ">", "GE": "≥"}
DERIVATIONS = "adam/derivations"


def _value_counts(s: pd.Series) -> str:
    values = s.dropna()
    values = values[values.astype(str).str.strip() != ""]
    counts = values.value_counts().sort_index()
    if counts.empty:
        return "all missing"
    if len(counts) > MAX_LEVELS:
        return f"{len(counts)} distinct values"
    return "; ".join(f"{_text(k)}: {v}" for k, v in counts.items())


def _text(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _methods(g: GuideInputs) -> dict[str, Method]:
    return {m.id: m for m in g.spec.methods}


def _derivation(g: GuideInputs, dataset: str, variable: str) -> str:
    v = next((v for v in g.spec.variables if v.dataset == dataset and v.name == variable), None)
    if v is None:
        return ""
    method = _methods(g).get(v.method)
    if method:
        return method.description
    return f"{v.origin}: {v.predecessor}" if v.predecessor else v.origin


def populations(g: GuideInputs) -> list[Block]:
    adsl = g.frames.get("ADSL")
    if adsl is None:
        return [Paragraph("The package has no ADSL.")]
    labels = {v.name: v.label for v in g.spec.variables_of("ADSL")}
    flags = [c for c in adsl.columns if c.endswith("FL")]
    rows = tuple((c, labels.get(c, ""), str(int(adsl[c].eq("Y").sum())), str(int(adsl[c].eq("N").sum())),
                  str(int(adsl[c].isna().sum() + adsl[c].eq("").sum())), _derivation(g, "ADSL", c)) for c in flags)
    return [Paragraph(f"ADSL holds {len(adsl)} subjects. Its flags, with the number of subjects per value:"),
            Table(("Flag", "Label", "Y", "N", "Missing", "Derivation"), rows, (0.8, 1.6, 0.4, 0.4, 0.6, 3.6))]


def _is_text(column: pd.Series) -> bool:
    """A character variable, whether the frame is the build's or read back from the XPT."""
    return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column))


def treatment_variables(g: GuideInputs) -> list[Block]:
    adsl = g.frames.get("ADSL")
    if adsl is None:
        return [Paragraph("The package has no ADSL.")]
    labels = {v.name: v.label for v in g.spec.variables_of("ADSL")}
    names = [c for c in adsl.columns if TREATMENT.match(c)]
    rows = tuple((c, labels.get(c, ""), _value_counts(adsl[c]) if _is_text(adsl[c])
                  else f"numeric, {int(adsl[c].notna().sum())} non-missing",
                  _derivation(g, "ADSL", c)) for c in names)
    if not rows:
        return [Paragraph("ADSL has no treatment variables.")]
    return [Table(("Variable", "Label", "Values (subjects)", "Derivation"), rows, (0.9, 1.5, 2.2, 2.8))]


def imputation(g: GuideInputs) -> list[Block]:
    """Imputed dates and times: every *DTF / *TMF flag with how often it is set, and its rule."""
    rows = []
    for d in common.datasets_in_order(g):
        df = g.frames[d.name]
        for v in g.spec.variables_of(d.name):
            if IMPUTATION_FLAG.match(v.name) and v.name in df.columns:
                rule = _derivation(g, d.name, v.name)
                counts = _value_counts(df[v.name])
                rows.append((d.name, v.name, v.label, "none imputed" if counts == "all missing" else counts, rule))
    blocks: list[Block] = []
    if rows:
        blocks.append(Table(("Dataset", "Flag", "Label", "Imputed records by level", "Rule"), tuple(rows),
                            (0.7, 0.8, 1.4, 1.4, 3.2)))
    others = [m for m in g.spec.methods if m.type == "Imputation" and m.description not in {r[4] for r in rows}]
    for m in others:
        blocks.append(Paragraph(f"{m.name}: {m.description}"))
    return blocks or [Paragraph("No date or time is imputed: the ADaM datasets carry no imputation flag.")]


def parameters(g: GuideInputs) -> list[Block]:
    blocks: list[Block] = []
    for d in common.datasets_in_order(g):
        df = g.frames[d.name]
        if "PARAMCD" not in df.columns:
            continue
        param = df["PARAM"] if "PARAM" in df.columns else pd.Series("", index=df.index)  # a BDS lacking PARAM
        keys = pd.DataFrame({"PARAMCD": df["PARAMCD"], "PARAM": param.fillna(""), "USUBJID": df["USUBJID"]})
        by = keys.groupby(["PARAMCD", "PARAM"], dropna=False, sort=True).agg(
            records=("PARAMCD", "size"), subjects=("USUBJID", "nunique"))
        blocks.append(Heading("", f"{d.name} – {d.label}", 2))
        blocks.append(Table(("PARAMCD", "PARAM", "Records", "Subjects"),
                            tuple((p, str(q), str(r.records), str(r.subjects)) for (p, q), r in by.iterrows()),
                            (1, 3.5, 0.8, 0.8)))
    return blocks or [Paragraph("No dataset has the Basic Data Structure (PARAMCD).")]


def _where(clause: WhereClause | None) -> str:
    if clause is None:
        return ""
    return " and ".join(f"{c.variable} {OPERATORS.get(c.comparator, c.comparator)} {', '.join(c.values)}"
                        for c in clause.conditions)


def derivations(g: GuideInputs) -> list[Block]:
    """Per dataset: the methods of its variables and of its value-level metadata (the endpoint
    rules per parameter), and the comments, as define.xml states them."""
    methods, comments = _methods(g), {c.id: c.description for c in g.spec.comments}
    clauses = {w.id: w for w in g.spec.where_clauses}
    blocks: list[Block] = []
    for d in common.datasets_in_order(g):
        used: dict[tuple[str, str], list[str]] = {}  # (method or comment, its text) -> variables, one row each
        if d.comment in comments:
            used.setdefault(("Comment", comments[d.comment]), []).append("(dataset)")
        for v in g.spec.variables_of(d.name):
            if v.method in methods:
                used.setdefault((methods[v.method].name, methods[v.method].description), []).append(v.name)
            elif v.comment in comments:
                used.setdefault(("Comment", comments[v.comment]), []).append(v.name)
        for vl in sorted((x for x in g.spec.value_level if x.dataset == d.name), key=lambda x: (x.variable, x.order)):
            if vl.method in methods:
                used.setdefault((methods[vl.method].name, methods[vl.method].description), []).append(
                    f"{vl.variable} ({_where(clauses.get(vl.where_clause))})")
        rows = [(", ".join(names), name, text) for (name, text), names in used.items()]
        if rows:
            blocks.append(Heading("", f"{d.name} – {d.label}", 2))
            blocks.append(Table(("Variable", "Method", "Description"), tuple(rows), (1.4, 1.6, 4)))
    return blocks or [Paragraph("The ADaM specs state no derivation method.")]


def _spec_file(g: GuideInputs, dataset: str):
    path = g.specs_folder / DERIVATIONS / f"{dataset.lower()}.yaml"
    return path if path.is_file() else None


def _pipeline(g: GuideInputs, dataset: str) -> dict:
    path = _spec_file(g, dataset)
    return (load_yaml(path.read_text(encoding="utf-8")) or {}) if path else {}


def _named_datasets(node) -> set[str]:
    """Every `dataset:` or `domain:` a derivation pipeline reads from (its sources and merges)."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("dataset", "domain") and isinstance(value, str):
                found.add(value)
            else:
                found |= _named_datasets(value)
    elif isinstance(node, list):
        for item in node:
            found |= _named_datasets(item)
    return found


def source_data(g: GuideInputs) -> list[Block]:
    """The datasets each analysis dataset is derived from: its pipeline's sources and the
    predecessors of its variables. ADaM inputs are the data dependencies (built first)."""
    adam = set(g.frames)
    rows = []
    for d in common.datasets_in_order(g):
        pipeline = _pipeline(g, d.name)
        named = _named_datasets(pipeline.get("steps", pipeline)) - {d.name}
        named |= {v.predecessor.split(".")[0] for v in g.spec.variables_of(d.name) if "." in v.predecessor} - {d.name}
        rows.append((d.name, ", ".join(sorted(named - adam)), ", ".join(sorted(named & adam))))
    return [Table(("Dataset", "SDTM sources", "ADaM dependencies"), tuple(rows), (1, 3, 2))]


def program_inventory(g: GuideInputs) -> list[Block]:
    """The derivation spec of each dataset (the program, as submit runs no other code per study),
    the named derivations it calls and its SHA-256."""
    rows = []
    for d in common.datasets_in_order(g):
        path = _spec_file(g, d.name)
        if path is None:
            rows.append((d.name, "(none)", "", ""))
            continue
        steps = _pipeline(g, d.name).get("steps", [])
        names = Counter(next(iter(s)) for s in steps if isinstance(s, dict) and s)
        called = ", ".join(f"{n} ×{k}" if k > 1 else n for n, k in names.items())
        rows.append((d.name, path.relative_to(g.specs_folder).as_posix(), called,
                     hashlib.sha256(path.read_bytes()).hexdigest()))
    return [Paragraph(f"Every analysis dataset was derived by submit {g.version} (submit build) from the study's "
                      "specs alone: the derivation spec of each dataset names the derivation functions it calls "
                      "(package submit.adam.derive) with their parameters; no study-specific program exists."),
            Table(("Dataset", "Derivation spec", "Named derivations", "SHA-256"), tuple(rows), (0.7, 1.6, 2.4, 2.3))]


CONTENTS = {"protocol": common.protocol, "standards": common.standards, "populations": populations,
            "treatment_variables": treatment_variables, "imputation": imputation, "source_data": source_data,
            "datasets": common.dataset_overview, "parameters": parameters, "derivations": derivations,
            "conformance_inputs": common.conformance_inputs, "findings": common.findings,
            "finding_details": common.finding_details, "program_inventory": program_inventory}
