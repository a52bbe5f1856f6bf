"""The visit schedule: raw visit codes to VISITNUM and VISIT, one source for TV and every domain.

The study declares it in `trial_design/visits.yaml`:

    planned: TV.csv                     # TV as a table, with the raw code of each visit in _CODE
    numbered:                           # visits outside TV, numbered by rule (first match wins)
      - {pattern: '^UNS(\\d+)$', base: 9000, visit: 'UNSCHEDULED {n}'}

A code in the planned table takes that row's VISITNUM and VISIT (the TV domain is the same table,
so TV and the data cannot disagree); else the first rule whose pattern (one group capturing a
whole number n) matches gives VISITNUM = base + n and VISIT = the template with {n} replaced. The
pattern is a regular expression applied with `str.extract`, never evaluated as code. A code
neither planned nor numbered is reported (raw file, row, column) by `visit`.

Algorithms: `visit`, `visitnum` (from a raw code column, optionally prefixed: FUNUM 3 -> FU3),
`fixed_visit` (one code for a whole source).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from submit.distinct import Distinct
from submit.errors import InputError, Problem
from submit.sdtm.algorithms import SourceContext, raw_text, variable_algorithm
from submit.spec.model import Spec
from submit.yaml_load import load_yaml

SCHEDULE = "trial_design/visits.yaml"
VISIT_FIELDS = ("VISIT", "VISITNUM")


@dataclass(frozen=True)
class NumberedVisits:
    pattern: str
    base: float
    visit: str  # template with {n}


@dataclass(frozen=True)
class VisitSchedule:
    planned: pd.DataFrame  # the TV table with its planning columns (_CODE ...)
    codes: pd.DataFrame  # index: raw code; VISIT, VISITNUM
    numbered: tuple[NumberedVisits, ...]

    def lookup(self, codes: pd.Series) -> pd.DataFrame:
        """VISIT and VISITNUM of raw codes (null where unknown), resolved once per distinct code."""
        distinct = Distinct.of(codes)
        unique = distinct.values.astype(str)
        visit = unique.map(self.codes.VISIT).astype(object)
        num = unique.map(self.codes.VISITNUM).astype(float)
        for rule in self.numbered:
            n = unique.str.extract(rule.pattern, expand=False)
            number = pd.to_numeric(n, errors="coerce")
            hit = visit.isna() & number.notna() & (number % 1 == 0)
            num = num.where(~hit, rule.base + number)
            # the template filled per distinct code (a study has a few hundred), never evaluated
            filled = pd.Series([rule.visit.replace("{n}", str(x)) for x in n.where(hit, "")], index=n.index)
            visit = visit.where(~hit, filled)
        return pd.DataFrame({"VISIT": distinct.rows(visit.astype(object), np.nan), "VISITNUM": distinct.rows(num)},
                            index=codes.index)


def _rules(data: dict, file: str) -> tuple[tuple[NumberedVisits, ...], list[Problem]]:
    rules, problems = [], []
    for i, r in enumerate(data.get("numbered") or []):
        key = f"numbered[{i}]"
        if not isinstance(r, dict) or set(r) != {"pattern", "base", "visit"}:
            problems.append(Problem(file, "expected exactly pattern, base and visit", key=key))
            continue
        try:
            groups = re.compile(str(r["pattern"])).groups
        except re.error as exc:
            problems.append(Problem(file, f"pattern is not a regular expression: {exc}", key=key))
            continue
        if groups != 1:
            problems.append(Problem(file, "pattern must have exactly one group (the visit number)", key=key))
        if not isinstance(r["base"], (int, float)) or isinstance(r["base"], bool):
            problems.append(Problem(file, f"base must be a number, not {r['base']!r}", key=key))
        if "{n}" not in str(r["visit"]):
            problems.append(Problem(file, "visit must contain {n}", key=key))
        rules.append(NumberedVisits(str(r["pattern"]), float(r["base"]) if isinstance(r["base"], (int, float)) else 0.0,
                                    str(r["visit"])))
    return tuple(rules), problems


@functools.lru_cache(maxsize=8)
def _load(path: Path, stamp: tuple, spec: Spec) -> VisitSchedule:
    from submit.sdtm.trial_tables import load_trial_table

    file = str(path)
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    problems = [Problem(file, f"unknown key {k!r} (known: planned, numbered)", key=k)
                for k in data if k not in ("planned", "numbered")]
    if not isinstance(data.get("planned"), str):
        problems.append(Problem(file, "planned must name the TV table (e.g. TV.csv)", key="planned"))
    rules, more = _rules(data, file)
    if problems + more:
        raise InputError(f"Visit schedule {path} is invalid", problems + more)
    folder = path.parent
    planned = load_trial_table(folder.parent, f"{folder.name}/{data['planned']}", spec, "TV", planning=("_CODE",))
    coded = planned[planned["_CODE"].notna()]
    codes = coded.drop_duplicates(["_CODE", "VISIT", "VISITNUM"])
    clash = codes["_CODE"].duplicated(keep=False)
    if clash.any():
        raise InputError(f"Visit schedule {path} is invalid",
                         [Problem(str(coded["__raw"].iloc[0]), f"visit code {c} has two VISITNUM or VISIT", row=int(r),
                                  column="_CODE") for c, r in zip(codes["_CODE"][clash], codes["__row"][clash])])
    return VisitSchedule(planned, codes.set_index("_CODE")[["VISIT", "VISITNUM"]], rules)


def visit_schedule(folder: Path | None, spec: Spec | None, where: str) -> VisitSchedule:
    """The study's visit schedule (read once per file version)."""
    if folder is None or spec is None:
        raise InputError(f"Mapping of {where}", [Problem("mapping", "the visit schedule needs the study folder")])
    path = folder / SCHEDULE
    if not path.is_file():
        raise InputError(f"Mapping of {where}", [Problem(str(path), "no visit schedule (planned visits and rules)")])
    table = path.parent / (load_yaml(path.read_text(encoding="utf-8")) or {}).get("planned", "")
    stamp = tuple(p.stat().st_mtime_ns if p.is_file() else None for p in (path, table))
    return _load(path.resolve(), stamp, spec)


def _schedule(ctx: SourceContext) -> VisitSchedule:
    return visit_schedule(ctx.specs_folder, ctx.spec, f"{ctx.domain}.{ctx.target}")


def _codes(ctx: SourceContext, column: str, prefix: str) -> pd.Series:
    raw = raw_text(ctx.column(column))
    return (prefix + raw.astype(str)).where(raw.notna()).astype(object)


@variable_algorithm
def visit(ctx: SourceContext, column: str = "VISIT", prefix: str = "") -> pd.Series:
    """VISIT of the raw visit code in `column` (with `prefix` put before it: FUNUM 3 -> FU3) by the
    study's visit schedule; a code neither planned nor numbered by a rule is reported."""
    out = _schedule(ctx).lookup(_codes(ctx, column, prefix))
    bad = ctx.column(column).notna() & out.VISIT.isna()
    if bad.any():
        ctx.report(bad, column, "unknown visit code")
    return out.VISIT


@variable_algorithm
def visitnum(ctx: SourceContext, column: str = "VISIT", prefix: str = "") -> pd.Series:
    """VISITNUM of the raw visit code, by the same schedule as `visit` (which reports unknown codes)."""
    return _schedule(ctx).lookup(_codes(ctx, column, prefix)).VISITNUM


@variable_algorithm
def fixed_visit(ctx: SourceContext, code: str, field: str = "VISIT") -> pd.Series:
    """VISIT (`field: VISIT`) or VISITNUM (`field: VISITNUM`) of one visit code for every record of
    a source whose form is completed at a single visit and has no visit column of its own (height
    and weight on the screening form). The code goes through the same schedule as `visit`, so these
    records cannot be numbered differently from the records of the same visit that carry the code."""
    where = f"{ctx.domain}.{ctx.target}"
    if field not in VISIT_FIELDS:
        raise InputError(f"Mapping of {where}", [Problem("mapping", f"fixed_visit: field must be one of "
                                                                    f"{', '.join(VISIT_FIELDS)}, not {field!r}")])
    schedule = _schedule(ctx)
    if not isinstance(code, str) or schedule.lookup(pd.Series([code], dtype=object)).VISIT.isna().any():
        raise InputError(f"Mapping of {where}", [Problem("mapping", f"fixed_visit: {code!r} is not a visit code of "
                                                                    "the visit schedule")])
    return schedule.lookup(pd.Series(code, index=ctx.rows.index, dtype=object))[field]
