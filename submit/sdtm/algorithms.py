"""The closed vocabulary of SDTM mapping algorithms.

Two kinds, each registered by name and referenced from the mapping specs with declarative
parameters (spec text is never evaluated):

* variable algorithms compute one target variable for the rows of one raw source:
  `fn(ctx: SourceContext, **params) -> pd.Series` aligned with `ctx.rows`;
* domain algorithms run on the assembled domain after all sources are stacked:
  `fn(df: pd.DataFrame, ctx: DomainContext, **params) -> pd.DataFrame`.

Every algorithm checks its parameters and names the bad one. Values that cannot be mapped are
reported to `ctx.exceptions` with the raw file, row and column; the algorithm returns a missing
value for them and the engine decides what happens to the record.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from submit.config import StudyConfig
from submit.distinct import Distinct
from submit.errors import InputError, Problem
from submit.raw.dates import calendar_dates
from submit.raw.schema import DEFAULT_SUBJECT
from submit.spec.model import Spec

VARIABLE_ALGORITHMS: dict[str, Callable] = {}
DOMAIN_ALGORITHMS: dict[str, Callable] = {}


def variable_algorithm(fn: Callable) -> Callable:
    VARIABLE_ALGORITHMS[fn.__name__] = fn
    return fn


def domain_algorithm(fn: Callable) -> Callable:
    DOMAIN_ALGORITHMS[fn.__name__.removeprefix("derive_")] = fn
    return fn


@dataclass
class Exceptions:
    """Raw values or records that could not be mapped, with their reason."""

    rows: list[dict] = field(default_factory=list)

    def add(self, domain: str, raw: str, rows: pd.Index | np.ndarray, column: str, values, reason: str,
            filtered: bool = False) -> None:
        """`rows` are 0-based raw rows. `filtered` marks rows a source filter left out: they are
        exceptions only if no other mapping takes them (settled by `settle`)."""
        values = pd.Series(values, dtype=object).astype(str).to_numpy()
        for row, value in zip(np.asarray(rows), values):  # only failing rows, never all
            self.rows.append({"domain": domain, "raw_dataset": raw, "raw_row": int(row) + 1,
                              "column": column, "value": value, "reason": reason, "filtered": filtered})

    def settle(self, traced: pd.DataFrame, sources: dict[str, int]) -> None:
        """Drop filtered-out rows that another mapping did map (`traced`: raw_dataset, raw_row),
        and list every row of a source dataset that no mapping took and no exception explains."""
        keys = ["raw_dataset", "raw_row"]
        done = traced[keys].drop_duplicates()
        rows = pd.DataFrame(self.rows, columns=[*keys, "filtered"]).merge(done, on=keys, how="left", indicator=True)
        keep = ~(rows.filtered.astype(bool) & (rows._merge == "both")).to_numpy()
        self.rows = [r for r, k in zip(self.rows, keep) if k]  # the exceptions only, few
        explained = pd.concat([done, pd.DataFrame(self.rows, columns=keys)], ignore_index=True)
        taken = {raw: rows.to_numpy(int) for raw, rows in explained.groupby("raw_dataset", sort=False).raw_row}
        for raw, n in sources.items():
            seen = np.zeros(n + 2, dtype=bool)  # by 1-based raw row; the last slot takes rows beyond n
            seen[np.minimum(taken.get(raw, np.empty(0, int)), n + 1)] = True
            lost = np.flatnonzero(~seen[1:n + 1]) + 1
            self.add("", raw, lost - 1, "", [""] * len(lost), "not mapped to any SDTM domain")

    def frame(self) -> pd.DataFrame:
        cols = ["domain", "raw_dataset", "raw_row", "column", "value", "reason"]
        return pd.DataFrame(self.rows, columns=[*cols, "filtered"])[cols].sort_values(
            cols[:4], kind="stable").reset_index(drop=True)


@dataclass
class SourceContext:
    domain: str
    raw_name: str
    rows: pd.DataFrame  # the raw records of this source (index = 0-based raw row)
    frames: dict[str, pd.DataFrame]  # the whole raw extract, for look-ups
    study: StudyConfig
    exceptions: Exceptions
    target: str  # the SDTM variable being computed
    specs_folder: Path | None = None  # the study folder (trial design tables, visit schedule)
    spec: Spec | None = None
    subjects: dict[str, str] = field(default_factory=dict)  # subject-id column of each raw dataset (raw schema)

    def subject_of(self, raw: str | None = None) -> str:
        """The subject-id column the raw schema declares for a raw dataset (this source's by default)."""
        return self.subjects.get(raw or self.raw_name, DEFAULT_SUBJECT)

    def column(self, name: str) -> pd.Series:
        if name not in self.rows.columns:
            raise InputError(f"Mapping of {self.domain}.{self.target}",
                             [Problem(f"raw {self.raw_name}", f"no column {name}", column=name)])
        return self.rows[name]

    def report(self, mask: pd.Series, column: str, reason: str) -> None:
        bad = self.rows.index[mask.to_numpy()]
        self.exceptions.add(self.domain, self.raw_name, bad, column, self.rows.loc[bad, column], reason)


@dataclass
class DomainContext:
    domain: str
    study: StudyConfig
    dm: pd.DataFrame | None  # the DM domain once built (reference dates)
    frames: dict[str, pd.DataFrame]
    exceptions: Exceptions
    cache: dict = field(default_factory=dict)  # shared by the domains of one build (e.g. subject elements)
    specs_folder: Path | None = None  # the study folder (trial design tables, visit schedule)
    spec: Spec | None = None
    subjects: dict[str, str] = field(default_factory=dict)  # subject-id column of each raw dataset (raw schema)

    def subject_of(self, raw: str) -> str:
        """The subject-id column the raw schema declares for a raw dataset."""
        return self.subjects.get(raw, DEFAULT_SUBJECT)

    def cached(self, key: tuple, compute: Callable):
        """A value computed once per build, such as the subject elements every EPOCH needs."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


def check_params(name: str, fn: Callable, params: dict, where: str) -> list[Problem]:
    """Problems with the parameters given to an algorithm, against its signature."""
    sig = inspect.signature(fn)
    accepted = [p for p in list(sig.parameters)[1 if fn in VARIABLE_ALGORITHMS.values() else 2:]]
    required = [p for p in accepted if sig.parameters[p].default is inspect.Parameter.empty]
    problems = [Problem(where, f"algorithm {name}: unknown parameter {p!r} (accepted: {', '.join(accepted)})")
                for p in params if p not in accepted]
    problems += [Problem(where, f"algorithm {name}: parameter {p!r} is required") for p in required if p not in params]
    return problems


# --- variable algorithms ---------------------------------------------------------------------


@variable_algorithm
def assign(ctx: SourceContext, column: str) -> pd.Series:
    """The raw value as collected."""
    return ctx.column(column)


@variable_algorithm
def hardcode(ctx: SourceContext, value) -> pd.Series:
    """A constant for every record."""
    return pd.Series(value, index=ctx.rows.index, dtype=object if isinstance(value, str) else float)


PRESENCE = ("present", "missing")


@variable_algorithm
def hardcode_if(ctx: SourceContext, column: str, when: str, value: str) -> pd.Series:
    """A constant where the raw `column` has a value (`when: present`, e.g. the unit of a result
    collected on the form) or where it is empty (`when: missing`, e.g. --STAT NOT DONE for an
    assessment left blank); null elsewhere. Blank text counts as missing."""
    if when not in PRESENCE:
        raise InputError(f"Mapping of {ctx.domain}.{ctx.target}",
                         [Problem("mapping", f"hardcode_if: when must be one of {', '.join(PRESENCE)}, not {when!r}")])
    raw = ctx.column(column)
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    return pd.Series(np.where(present == (when == "present"), value, None), index=ctx.rows.index, dtype=object)


@variable_algorithm
def study_value(ctx: SourceContext, key: str) -> pd.Series:
    """A value of the study configuration, e.g. `study.id`."""
    return pd.Series(study_attribute(ctx.study, key, f"mapping of {ctx.domain}.{ctx.target}: study_value"),
                     index=ctx.rows.index, dtype=object)


def study_attribute(study: StudyConfig, key: str, needed_by: str) -> str:
    """The text of a study.yaml value by its dotted key (`dates.data_cutoff` -> 2012-10-15); a key
    the study lacks is an InputError naming it and `needed_by`."""
    return str(study.require(key, needed_by))


@variable_algorithm
def usubjid(ctx: SourceContext, subject: str | None = None) -> pd.Series:
    """STUDYID-SUBJID: unique across every study of a submission (`subject`: the raw column,
    by default the one the raw schema declares for the source)."""
    return ctx.study.study.id + "-" + ctx.column(subject or ctx.subject_of()).astype(str)


@variable_algorithm
def assign_ct(ctx: SourceContext, column: str, values: dict, others: str | None = None,
              strict: bool = True) -> pd.Series:
    """Raw value to CT submission value through the map given; numbers are looked up as their text
    (2.0 as "2"). A raw value not in the map is reported (strict), or takes `others` (null when
    not given) without a report."""
    raw = ctx.column(column)
    mapping = {str(k): v for k, v in values.items()}
    out = raw_text(raw).map(mapping)
    unmapped = raw.notna() & out.isna()
    if strict and unmapped.any():
        ctx.report(unmapped, column, f"no {ctx.target} value for this raw value")
    elif others is not None:
        out = out.where(~unmapped, others)
    return out.astype(object)


@variable_algorithm
def iso8601(ctx: SourceContext, date: str, time: str | None = None) -> pd.Series:
    """ISO 8601 date or date-time from raw date and time parts. Partial dates stay partial
    (2011-03-UN -> 2011-03, 2011-UN-UN -> 2011); a time goes with a complete date only;
    an impossible date is reported and left empty."""
    distinct = Distinct.of(ctx.column(date))  # each date converted and checked once
    text = distinct.values.str.replace("-UN-UN", "", regex=False).str.replace("-UN", "", regex=False)
    complete = text.str.len() == 10
    bad = complete & calendar_dates(text.where(complete)).isna()
    text = distinct.rows(text.where(~bad, ""), "")
    complete, bad = distinct.flag(complete), distinct.flag(bad)
    if bad.any():
        ctx.report(bad, date, "impossible date")
    if time is not None:
        t = ctx.column(time).astype(object)
        has_time = (complete & ~bad & t.notna() & (t != "")).to_numpy()
        text = text.to_numpy(dtype=object, copy=True)
        text[has_time] = text[has_time] + "T" + t[has_time].astype(str).to_numpy(dtype=object)
        text = pd.Series(text, index=t.index, dtype=object)
    return text.astype(object)


@variable_algorithm
def first_of(ctx: SourceContext, raw: str, date: str, time: str | None = None, last: bool = False,
             end_date: str | None = None, end_time: str | None = None, subject: str | None = None) -> pd.Series:
    """Per subject, the earliest (or latest) ISO date-time of another raw dataset: reference
    dates such as the first and last exposure. Subjects are matched through each dataset's
    declared subject column unless `subject` names one for both."""
    other = ctx.frames[raw]
    d, t = (end_date or date, end_time or time) if last else (date, time)
    stamp = other[d].astype(str) + ("T" + other[t].astype(str) if t else "")
    stamp = stamp.where(other[d].notna())
    by = stamp.groupby(other[subject or ctx.subject_of(raw)])
    pick = by.max() if last else by.min()
    return ctx.column(subject or ctx.subject_of()).map(pick).astype(object)


@variable_algorithm
def lookup(ctx: SourceContext, raw: str, column: str, subject: str | None = None, values: dict | None = None,
           only_if_in: str | None = None) -> pd.Series:
    """A per-subject value from another raw dataset (one record per subject), optionally mapped;
    with `only_if_in`, only for subjects who have records in that raw dataset (e.g. the actual
    arm of treated subjects)."""
    out = ctx.column(subject or ctx.subject_of()).map(_per_subject(ctx, raw, column, subject))
    if values is not None:
        out = out.map({str(k): v for k, v in values.items()})
    if only_if_in is not None:
        out = out.where(_has_records(ctx, only_if_in, subject))
    return out.astype(object)


def _per_subject(ctx: SourceContext, raw: str, column: str, subject: str | None) -> pd.Series:
    """A raw dataset's `column` indexed by subject (its first record of each)."""
    key = subject or ctx.subject_of(raw)
    return ctx.frames[raw].drop_duplicates(key).set_index(key)[column]


def _has_records(ctx: SourceContext, raw: str, subject: str | None) -> pd.Series:
    """True for the source's rows whose subject has a record in raw dataset `raw`."""
    return ctx.column(subject or ctx.subject_of()).isin(set(ctx.frames[raw][subject or ctx.subject_of(raw)]))


@variable_algorithm
def flag_if_present(ctx: SourceContext, raw: str, subject: str | None = None, value: str = "Y",
                    absent: bool = False) -> pd.Series:
    """`value` when the subject has a record in another raw dataset (e.g. DTHFL from the death
    form), or with `absent`, when the subject has none (e.g. ARMNRS for subjects never treated)."""
    present = _has_records(ctx, raw, subject)
    return pd.Series(np.where(present != absent, value, None), index=ctx.rows.index, dtype=object)


@variable_algorithm
def latest_of(ctx: SourceContext, dates: list[str], subject: str | None = None) -> pd.Series:
    """Per subject, the latest complete date among raw `dataset.COLUMN` date columns (e.g. the
    end of participation: last contact, death or disposition)."""
    stacked = []
    for ref in dates:
        raw, column = ref.split(".")
        frame = ctx.frames[raw]
        stacked.append(pd.DataFrame({"s": frame[subject or ctx.subject_of(raw)], "d": frame[column]}))
    all_dates = pd.concat(stacked, ignore_index=True).dropna()
    all_dates = all_dates[all_dates.d.astype(str).str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    return ctx.column(subject or ctx.subject_of()).map(all_dates.groupby("s").d.max()).astype(object)


@variable_algorithm
def site_attribute(ctx: SourceContext, attribute: str, column: str = "SITEID") -> pd.Series:
    """An attribute of the subject's site from the study configuration (e.g. its country)."""
    sites = ctx.study.require("sites", f"mapping of {ctx.domain}.{ctx.target}: site_attribute")
    table = {site.id: getattr(site, attribute) for site in sites}
    return ctx.column(column).astype(str).map(table).astype(object)


@variable_algorithm
def number(ctx: SourceContext, column: str) -> pd.Series:
    """A raw number as a numeric SDTM value."""
    return pd.to_numeric(ctx.column(column), errors="raise").astype(float)


@variable_algorithm
def text_of(ctx: SourceContext, column: str) -> pd.Series:
    """A raw value as text (numbers written without a trailing .0)."""
    return raw_text(ctx.column(column))


def raw_text(raw: pd.Series) -> pd.Series:
    """Raw values as text: integers and whole floats without '.0'; null stays null."""
    if pd.api.types.is_integer_dtype(raw):
        return raw.astype("string").astype(object).where(raw.notna())
    if pd.api.types.is_float_dtype(raw):
        return number_text(raw, decimals=10)
    return raw.astype(object)


@variable_algorithm
def cycle_label(ctx: SourceContext, column: str = "CYCLE") -> pd.Series:
    """"CYCLE n" from a raw cycle number."""
    raw = ctx.column(column)
    return ("CYCLE " + raw.astype("string")).astype(object).where(raw.notna())


# --- domain algorithms -----------------------------------------------------------------------


@domain_algorithm
def derive_seq(df: pd.DataFrame, ctx: DomainContext, target: str, order: list[str], by: str = "USUBJID") -> pd.DataFrame:
    """--SEQ: 1, 2, ... within subject in the order of the given variables."""
    df = df.sort_values([by, *order], kind="stable")
    df[target] = (df.groupby(by).cumcount() + 1).astype(float)
    return df


@domain_algorithm
def derive_study_day(df: pd.DataFrame, ctx: DomainContext, dtc: str, target: str) -> pd.DataFrame:
    """--DY from --DTC and DM.RFSTDTC: complete dates only, no day 0 (day 1 = reference date)."""
    ref = df.USUBJID.map(_complete_date(ctx.dm.set_index("USUBJID").RFSTDTC))
    distinct = Distinct.of(df[dtc])  # each date converted once
    delta = (distinct.rows(_complete_date(distinct.values)) - ref).dt.days
    df[target] = np.where(delta >= 0, delta + 1, delta).astype(float)
    return df


def _complete_date(dtc: pd.Series) -> pd.Series:
    """The date of each --DTC as datetime64 where it has a complete one (NaT elsewhere)."""
    text = dtc.astype(str).str.slice(0, 10)
    return pd.to_datetime(text.where(text.str.len() == 10), format="%Y-%m-%d", errors="coerce")


def number_text(values: pd.Series, decimals: int = 4) -> pd.Series:
    """Numbers as SDTM character results: rounded, in plain decimal notation (3.8e-05 is written
    0.000038: --STRESC must read as --STRESN does, FDA FB3103), without trailing zeros or a trailing
    point; null stays null. Formatted once per distinct value."""
    v = pd.to_numeric(values, errors="coerce").round(decimals) + 0.0  # + 0.0: no "-0"
    codes, uniques = pd.factorize(v)
    text = np.array([np.format_float_positional(x, precision=decimals, trim="-") for x in uniques] + [None],
                    dtype=object)
    return pd.Series(text[codes], index=values.index, dtype=object)


def _numbers(values: pd.Series) -> pd.Series:
    """Raw results as float (NaN where not a number), each distinct text converted once."""
    distinct = Distinct.of(values)
    return distinct.rows(pd.to_numeric(distinct.values, errors="coerce").astype(float))


@domain_algorithm
def derive_standardize(df: pd.DataFrame, ctx: DomainContext, prefix: str, units: dict, decimals: int = 4) -> pd.DataFrame:
    """--STRESN/--STRESC/--STRESU and the standard range from the original result: for each test
    code in `units`, {unit: standard unit, from: {original unit: factor}}; other tests keep their
    original unit. A numeric result in an unlisted unit is reported, never guessed."""
    p = prefix
    test, unit = df[f"{p}TESTCD"].astype(object), df[f"{p}ORRESU"].astype(object)
    orig = _numbers(df[f"{p}ORRES"])
    table = pd.DataFrame([(t, u, spec["unit"], float(f)) for t, spec in units.items() for u, f in spec["from"].items()],
                         columns=["t", "u", "std_unit", "factor"])
    conv = pd.DataFrame({"t": test.to_numpy(), "u": unit.to_numpy()}).merge(table, how="left", on=["t", "u"])
    conv.index = df.index
    listed = test.isin(list(units))
    unknown = listed & orig.notna() & conv.factor.isna()
    if unknown.any():
        for raw_name, rows in df[unknown].groupby("__raw").__row:
            ctx.exceptions.add(ctx.domain, raw_name, rows.to_numpy() - 1, f"{p}ORRESU",
                               df.loc[rows.index, f"{p}ORRESU"], "no conversion to the standard unit")
    factor = conv.factor.where(listed, 1.0)
    std_unit = conv.std_unit.astype(object).where(listed, unit)
    df[f"{p}STRESN"] = (orig * factor).round(decimals)
    df[f"{p}STRESC"] = number_text(df[f"{p}STRESN"], decimals).fillna(df[f"{p}ORRES"].astype(object))
    df[f"{p}STRESU"] = std_unit.where(df[f"{p}STRESC"].notna())
    for side in ("LO", "HI"):
        if f"{p}ORNR{side}" in df:
            df[f"{p}STNR{side}"] = (_numbers(df[f"{p}ORNR{side}"]) * factor).round(decimals)
    return df


@domain_algorithm
def derive_range_indicator(df: pd.DataFrame, ctx: DomainContext, prefix: str) -> pd.DataFrame:
    """--NRIND: LOW / HIGH against the standard range, NORMAL within it, null without a range or result."""
    p = prefix
    value, lo, hi = df[f"{p}STRESN"], df.get(f"{p}STNRLO"), df.get(f"{p}STNRHI")
    if lo is None:
        return df
    ind = np.select([value < lo, value > hi, value.notna() & lo.notna()], ["LOW", "HIGH", "NORMAL"], "")
    df[f"{p}NRIND"] = pd.Series(ind, index=df.index, dtype=object).replace("", None)
    return df


@domain_algorithm
def derive_baseline_flag(df: pd.DataFrame, ctx: DomainContext, prefix: str, by: list[str], target: str | None = None,
                         reference: str = "RFXSTDTC") -> pd.DataFrame:
    """--LOBXFL = Y on the last record with a result on or before the subject's `reference` date
    (a DM variable, e.g. RFXSTDTC, the first exposure), per subject and `by` (e.g. test code and
    specimen): compared by date and time when both have a time (a sample taken hours after the
    start on day 1 is not baseline), else by date (on or before the day)."""
    p = prefix
    target = target or f"{p}LOBXFL"
    if ctx.dm is None or reference not in ctx.dm:
        raise InputError(f"Mapping of {ctx.domain}", [Problem("mapping", f"baseline_flag: reference {reference!r} is "
                                                                         "not a variable of DM", column=reference)])
    ref = df.USUBJID.map(ctx.dm.set_index("USUBJID")[reference].astype(str).str.slice(0, 16))
    dtc = df[f"{p}DTC"].astype(str).str.slice(0, 16)
    day, ref_day = dtc.str.slice(0, 10), ref.str.slice(0, 10)
    timed = (dtc.str.len() == 16) & (ref.str.len() == 16)
    before = (dtc <= ref).where(timed, day <= ref_day)
    has = df[f"{p}ORRES"].notna() & (day.str.len() == 10) & ref.notna() & before.fillna(False).astype(bool)
    cand = df[has].sort_values(["USUBJID", *by, f"{p}DTC"], kind="stable")
    last = cand.groupby(["USUBJID", *by], dropna=False).tail(1).index
    df[target] = None
    df.loc[last, target] = "Y"
    return df
