"""Reports of a `ComparisonRun`: text in the layout SAS programmers know from PROC COMPARE, and JSON
for machines. Both list at most `max_print` rows per listing; counts are always complete."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from submit import __version__
from submit.qc.compare import CompareOptions, ComparisonRun, DatasetComparison, Listing, ValueDifferences

RULE = "_" * 100


# ------------------------------------------------------------------------------------------------ text

def text_report(run: ComparisonRun) -> str:
    parts = []
    if run.folders:
        parts.append(_folder_summary(run))
    parts.extend(_dataset_report(c) for c in run.comparisons)
    return ("\n\n" + RULE + "\n\n").join(parts) + f"\n\nResult: {'EQUAL' if run.equal else 'DIFFERENT'}\n"


def _folder_summary(run: ComparisonRun) -> str:
    rows = [[c.name, Path(c.base.source).name, Path(c.compare.source).name, "EQUAL" if c.equal else "DIFFERENT"]
            for c in run.comparisons]
    rows += [[Path(p).stem.upper(), Path(p).name, "", "only in BASE"] for p in run.only_in_base]
    rows += [[Path(p).stem.upper(), "", Path(p).name, "only in COMPARE"] for p in run.only_in_compare]
    rows.sort(key=lambda r: r[0].upper())
    return "\n".join([
        "submit compare: folders",
        f"BASE:    {run.base}",
        f"COMPARE: {run.compare}",
        _options_line(run.options),
        "",
        f"Number of Datasets Compared: {len(run.comparisons)}.",
        f"Number of Datasets in BASE but not in COMPARE: {len(run.only_in_base)}.",
        f"Number of Datasets in COMPARE but not in BASE: {len(run.only_in_compare)}.",
        f"Number of Datasets with Differences: {sum(not c.equal for c in run.comparisons)}.",
        "",
        _table(["Dataset", "Base file", "Compare file", "Result"], rows),
    ])


def _options_line(o: CompareOptions) -> str:
    method = o.method.upper() + ("" if o.method == "exact" else f", Criterion={o.criterion:g}")
    blanks = "trailing blanks ignored" if o.ignore_trailing_blanks else "trailing blanks significant"
    case = "case ignored" if o.ignore_case else "case significant"
    return f"(Method={method}; {blanks}; {case})"


def _dataset_report(c: DatasetComparison) -> str:
    sections = [_header(c), _dataset_summary(c), _variables_summary(c)]
    if c.variables_only_in_base or c.variables_only_in_compare:
        sections.append(_variables_in_one(c))
    if c.attribute_differences:
        sections.append(_attribute_listing(c))
    sections.append(_observation_summary(c))
    for side, listing in (("BASE", c.only_in_base), ("COMPARE", c.only_in_compare)):
        if listing.count:
            other = "COMPARE" if side == "BASE" else "BASE"
            sections.append(_listing(f"Observations in {side} but not in {other}", listing, c.options.max_print))
    for side, listing in (("BASE", c.duplicates_base), ("COMPARE", c.duplicates_compare)):
        if listing.count:
            sections.append(_duplicates(side, listing, c))
    sections.append(_values_summary(c))
    if c.value_differences:
        sections.append("Value Comparison Results for Variables")
        sections.extend(_value_listing(c, v) for v in c.value_differences)
    sections.append(f"Dataset {c.name}: {'EQUAL' if c.equal else 'DIFFERENT'}")
    return "\n\n".join(sections)


def _header(c: DatasetComparison) -> str:
    by = "by position (observation number)" if c.by_position else "BY " + " ".join(c.keys)
    lines = ["submit compare (PROC COMPARE)",
             f"Comparison of {c.base.source} with {c.compare.source}",
             _options_line(c.options), f"Observations matched {by}."]
    lines += [f"NOTE: {n}" for n in c.notes]
    return "\n".join(lines)


def _dataset_summary(c: DatasetComparison) -> str:
    rows = [[side, s.name, s.format, s.variables, s.observations, s.label]
            for side, s in (("BASE", c.base), ("COMPARE", c.compare))]
    text = "Data Set Summary\n\n" + _table(["", "Dataset", "Format", "NVar", "NObs", "Label"], rows)
    for d in c.dataset_differences:
        text += f"\n\nData set {d.attribute}s differ: {d.base!r} vs {d.compare!r}."
    return text


def _variables_summary(c: DatasetComparison) -> str:
    conflicts = [d for d in c.attribute_differences if d.attribute == "type"]
    differing = {d.variable for d in c.attribute_differences}
    common = c.base.variables - len(c.variables_only_in_base)
    return "\n".join([
        "Variables Summary", "",
        f"Number of Variables in Common: {common}.",
        f"Number of Variables in BASE but not in COMPARE: {len(c.variables_only_in_base)}.",
        f"Number of Variables in COMPARE but not in BASE: {len(c.variables_only_in_compare)}.",
        f"Number of Variables with Conflicting Types: {len(conflicts)}.",
        f"Number of Variables with Differing Attributes: {len(differing)}.",
        f"Number of BY Variables: {0 if c.by_position else len(c.keys)}.",
    ])


def _variables_in_one(c: DatasetComparison) -> str:
    parts = []
    for side, other, variables in (("BASE", "COMPARE", c.variables_only_in_base),
                                   ("COMPARE", "BASE", c.variables_only_in_compare)):
        if variables:
            rows = [[v.name, v.type.capitalize(), _blank(v.length), v.label] for v in variables]
            parts.append(f"Listing of Variables in {side} but not in {other}\n\n"
                         + _table(["Variable", "Type", "Length", "Label"], rows))
    return "\n\n".join(parts)


def _attribute_listing(c: DatasetComparison) -> str:
    rows = []
    by_variable: dict[str, dict[str, tuple]] = {}
    for d in c.attribute_differences:
        by_variable.setdefault(d.variable, {})[d.attribute] = (d.base, d.compare)
    for variable, attributes in by_variable.items():
        for i, side in enumerate(("BASE", "COMPARE")):
            cells = [_blank(attributes[a][i]) if a in attributes else "" for a in ("type", "length", "format", "label")]
            rows.append([variable if i == 0 else "", side, *cells])
    return ("Listing of Common Variables with Differing Attributes\n"
            "(only the attributes that differ are shown)\n\n"
            + _table(["Variable", "Dataset", "Type", "Length", "Format", "Label"], rows))


def _observation_summary(c: DatasetComparison) -> str:
    return "\n".join([
        "Observation Summary", "",
        f"Number of Observations in Common: {c.observations_compared}.",
        f"Number of Observations in BASE but not in COMPARE: {c.only_in_base.count}.",
        f"Number of Observations in COMPARE but not in BASE: {c.only_in_compare.count}.",
        f"Total Number of Observations Read from BASE: {c.base.observations}.",
        f"Total Number of Observations Read from COMPARE: {c.compare.observations}.",
        "",
        f"Number of Observations with Some Compared Variables Unequal: {c.observations_unequal}.",
        f"Number of Observations with All Compared Variables Equal: "
        f"{c.observations_compared - c.observations_unequal}.",
    ])


def _listing(title: str, listing: Listing, max_print: int) -> str:
    text = f"{title}\n\n" + _frame_table(listing.rows)
    return text + _more(listing.count, len(listing.rows), max_print)


def _more(count: int, shown: int, max_print: int) -> str:
    return f"\nNOTE: {count} in all; the first {shown} are listed (--max-print {max_print})." if count > shown else ""


def _duplicates(side: str, listing: Listing, c: DatasetComparison) -> str:
    title = (f"WARNING: BY values occurring more than once in {side}: {listing.count} "
             f"({listing.observations} observations); they are paired in order of appearance")
    return _listing(title, listing, c.options.max_print)


def _values_summary(c: DatasetComparison) -> str:
    unequal = c.value_differences
    lines = ["Values Comparison Summary", "",
             f"Number of Variables Compared with All Observations Equal: {len(c.compared_variables) - len(unequal)}.",
             f"Number of Variables Compared with Some Observations Unequal: {len(unequal)}.",
             f"Total Number of Values which Compare Unequal: {sum(v.count for v in unequal)}."]
    diffs = [v.max_difference for v in unequal if v.max_difference is not None]
    if diffs:
        lines.append(f"Maximum Difference: {_short(max(diffs))}.")
    if not unequal:
        judged = "exactly equal" if c.options.method == "exact" else "equal within the criterion"
        lines += ["", f"NOTE: No unequal values were found. All values compared are {judged}."]
        return "\n".join(lines)
    rows = [[v.variable, v.type.upper(), _blank(v.length), v.count, v.missing_count,
             _short(v.max_difference) if v.max_difference is not None else ""] for v in unequal]
    return "\n".join(lines) + "\n\nVariables with Unequal Values\n\n" + _table(
        ["Variable", "Type", "Len", "Ndif", "MissDif", "MaxDif"], rows, right=("Len", "MaxDif"))


def _value_listing(c: DatasetComparison, v: ValueDifferences) -> str:
    frame = v.rows.rename(columns={"BASE": f"Base {v.variable}", "COMPARE": f"Compare {v.variable}"})
    if v.type == "num":
        base = frame[f"Base {v.variable}"].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = (frame["DIFF"] / base * 100).where(base != 0)
        frame = frame.assign(DIFF=frame["DIFF"].map(_short), PCT=pct.map(_short))
        frame = frame.rename(columns={"DIFF": "Diff.", "PCT": "% Diff"})
    title = f"{v.variable}" + (f"  ({v.label})" if v.label else "")
    text = title + "\n" + _frame_table(frame, separator_after=len(c.keys), right=("Diff.", "% Diff", "MaxDif"))
    return text + _more(v.count, len(v.rows), c.options.max_print)


# ------------------------------------------------------------------------------------------ formatting

def _number(value) -> str:
    """SAS-like: missing is '.', whole numbers without decimals, others at full (round-trip) precision."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "."
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _short(value) -> str:
    """Differences: six significant digits are plenty to judge them (the JSON has them exact)."""
    return "." if value is None or math.isnan(value) else f"{value:.6g}"


def _cell(value) -> str:
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
        return _number(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return repr(text) if text != text.strip() else text  # make leading/trailing blanks visible


def _blank(value) -> str:
    return "" if value is None else str(value)


def _table(headers: list[str], rows: list[list], separator_after: int | None = None,
           right: tuple[str, ...] = ()) -> str:
    """Columns of numbers (and those named in `right`) are right-aligned, the rest left-aligned."""
    cells = [[_cell(v) if not isinstance(v, str) else v for v in row] for row in rows]
    numeric = [h in right or (bool(rows) and all(
        isinstance(row[i], (int, float, np.integer, np.floating)) and not isinstance(row[i], bool) for row in rows))
        for i, h in enumerate(headers)]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: list[str], underline: bool = False) -> str:
        out = []
        for i, v in enumerate(values):
            if separator_after is not None and i == separator_after:
                out.append("||")
            out.append(v.rjust(widths[i]) if numeric[i] and not underline else v.ljust(widths[i]))
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths], underline=True),
                      *(line(r) for r in cells)])


def _frame_table(frame: pd.DataFrame, separator_after: int | None = None, right: tuple[str, ...] = ()) -> str:
    rows = [list(r) for r in frame.itertuples(index=False, name=None)]  # at most max_print rows
    return _table([str(c) for c in frame.columns], rows, separator_after, right)


# ------------------------------------------------------------------------------------------------ JSON

def json_report(run: ComparisonRun) -> dict:
    o = run.options
    return {
        "tool": "submit compare", "version": __version__,
        "base": run.base, "compare": run.compare, "folders": run.folders, "equal": run.equal,
        "options": {"by": list(o.by), "method": o.method, "criterion": None if o.method == "exact" else o.criterion,
                    "ignore_case": o.ignore_case, "ignore_trailing_blanks": o.ignore_trailing_blanks,
                    "max_print": o.max_print},
        "datasets_only_in_base": [str(p) for p in run.only_in_base],
        "datasets_only_in_compare": [str(p) for p in run.only_in_compare],
        "datasets": [_dataset_json(c) for c in run.comparisons],
    }


def write_json(run: ComparisonRun, path: Path) -> None:
    Path(path).write_text(json.dumps(json_report(run), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _dataset_json(c: DatasetComparison) -> dict:
    def side(s):
        return {"source": s.source, "name": s.name, "label": s.label, "format": s.format,
                "observations": s.observations, "variables": s.variables}

    def variable(v):
        return {"name": v.name, "type": v.type, "length": v.length, "label": v.label, "format": v.format}

    def difference(d):
        return {"variable": d.variable, "attribute": d.attribute, "base": _plain(d.base), "compare": _plain(d.compare)}

    return {
        "name": c.name, "equal": c.equal, "base": side(c.base), "compare": side(c.compare),
        "by": [] if c.by_position else c.keys, "matched_by_position": c.by_position, "notes": c.notes,
        "dataset_attribute_differences": [difference(d) for d in c.dataset_differences],
        "variables_only_in_base": [variable(v) for v in c.variables_only_in_base],
        "variables_only_in_compare": [variable(v) for v in c.variables_only_in_compare],
        "attribute_differences": [difference(d) for d in c.attribute_differences],
        "observations_only_in_base": _listing_json(c.only_in_base),
        "observations_only_in_compare": _listing_json(c.only_in_compare),
        "duplicate_keys": {"base": _listing_json(c.duplicates_base), "compare": _listing_json(c.duplicates_compare)},
        "observations_compared": c.observations_compared,
        "observations_with_differences": c.observations_unequal,
        "variables_compared": c.compared_variables,
        "value_differences": [_values_json(c, v) for v in c.value_differences],
    }


def _listing_json(listing: Listing) -> dict:
    out = {"count": listing.count, "listed": _records(listing.rows)}
    if listing.observations is not None:
        out["observations"] = listing.observations
    return out


def _values_json(c: DatasetComparison, v: ValueDifferences) -> dict:
    keys = v.rows[c.keys] if not v.rows.empty else pd.DataFrame(columns=c.keys)
    listed = [{"key": key, "base": _plain(b), "compare": _plain(m)}
              | ({"difference": _plain(d)} if v.type == "num" else {})
              for key, b, m, d in zip(_records(keys), v.rows["BASE"], v.rows["COMPARE"],
                                      v.rows["DIFF"] if v.type == "num" else [None] * len(v.rows))]
    return {"variable": v.variable, "type": v.type, "length": v.length, "label": v.label,
            "differences": v.count, "missing_differences": v.missing_count,
            "max_difference": v.max_difference, "max_relative_difference": v.max_relative_difference,
            "listed": listed}


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{str(k): _plain(v) for k, v in zip(frame.columns, row)}
            for row in frame.itertuples(index=False, name=None)]


def _plain(value):
    """JSON-safe scalar: numpy numbers to Python, NaN (SAS missing) to null."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
