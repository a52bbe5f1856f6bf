"""SDTM mapping algorithms: findings (registered on import).

Pharmacokinetic concentrations (PC), disease response (RS), the extramedullary disease
indicator (TU), and the relationship datasets built beside them: supplemental qualifiers
(SUPP--) and related records (RELREC).

The engine builds one domain per mapping from raw sources only, so a SUPP-- or RELREC record
cannot look up its parent record in the built parent domain. The identifiers they point at are
therefore computed from the raw rows by the same algorithm as the parent's: `seq_of` gives a
parent's --SEQ and its SUPP-- IDVARVAL alike, and RELREC relates records through --LNKGRP values
that `template` builds from the same raw columns in every domain.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.sdtm.visits import visit_schedule
from submit.sdtm.algorithms import (DomainContext, SourceContext, domain_algorithm, number_text, raw_text,
                                    variable_algorithm)

MAX_TEXT = 200  # bytes of an XPT v5 character value
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _bad(where: str, message: str) -> InputError:
    return InputError(where, [Problem("mapping", message)])


# --- variable algorithms ---------------------------------------------------------------------


@variable_algorithm
def template(ctx: SourceContext, text: str, requires: list[str] | None = None) -> pd.Series:
    """Text built from raw columns named in braces, e.g. "CYCLE {CYCLE} INFUSION START" or a
    --LNKGRP value "MARROW ASSESSMENT {VISIT}"; null when any named column is null, or any raw
    column of `requires` (e.g. the date of an assessment: no link group for one not done, which has
    no partner record to link to). One template gives the same value in every domain built from the
    same raw columns (how RELREC links them)."""
    parts = _PLACEHOLDER.split(text)  # literal, name, literal, name, ..., literal
    if len(parts) == 1:
        raise _bad(f"Mapping of {ctx.domain}.{ctx.target}", f"template: text {text!r} names no {{COLUMN}}")
    out = pd.Series(parts[0], index=ctx.rows.index, dtype=object)
    missing = pd.Series(False, index=ctx.rows.index)
    for name, literal in zip(parts[1::2], parts[2::2]):
        value = raw_text(ctx.column(name))
        missing |= value.isna()
        out = out + value.fillna("").astype(str) + literal
    for name in requires or ():
        missing |= ctx.column(name).isna()
    return out.astype(object).where(~missing)


@variable_algorithm
def seq_of(ctx: SourceContext, order: list[str], subject: str | None = None, text: bool = False) -> pd.Series:
    """1, 2, ... per subject in the order of the raw columns given (ties keep the raw row order).
    Gives a single-source parent's --SEQ and, with `text`, the IDVARVAL of its SUPP-- records: the
    same algorithm with the same order on the same raw rows, so IDVARVAL always points at the
    parent record that qualifies it."""
    if not order:
        raise _bad(f"Mapping of {ctx.domain}.{ctx.target}", "seq_of: order needs at least one raw column")
    keys = pd.DataFrame({"__s": ctx.column(subject or ctx.subject_of()), **{f"__{i}": ctx.column(c) for i, c in enumerate(order)}})
    ranked = keys.sort_values(list(keys.columns), kind="stable", na_position="last")
    seq = (ranked.groupby("__s", sort=False).cumcount() + 1).reindex(ctx.rows.index).astype(float)
    return seq.astype(int).astype(str).astype(object) if text else seq


@variable_algorithm
def group_start(ctx: SourceContext, raw: str, date: str, time: str, by: dict, equals: dict | None = None) -> pd.Series:
    """The earliest date-time of a group of records in another raw dataset, e.g. the start of the
    first infusion segment of a subject's core cycle (the reference time point of its PK samples):
    `by` maps this source's columns to the other dataset's, `equals` keeps only the other
    dataset's rows with these column values. Null where the group has no record."""
    where = f"Mapping of {ctx.domain}.{ctx.target}"
    if not by:
        raise _bad(where, "group_start: by needs at least one column pair")
    if raw not in ctx.frames:
        raise _bad(where, f"group_start: unknown raw dataset {raw!r}")
    other = ctx.frames[raw]
    absent = [c for c in [date, time, *by.values(), *(equals or {})] if c not in other.columns]
    if absent:
        raise _bad(where, f"group_start: raw {raw} has no column {', '.join(absent)}")
    keep = pd.Series(True, index=other.index)
    for column, value in (equals or {}).items():
        keep &= other[column].astype(object) == value
    other = other[keep.to_numpy()]
    stamp = other[date].astype(str) + "T" + other[time].astype(str)
    stamp = stamp.where(other[date].notna() & other[time].notna())
    start = stamp.groupby([other[c] for c in by.values()]).min().rename("__start")
    left = pd.DataFrame({o: ctx.column(t).to_numpy() for t, o in by.items()}, index=ctx.rows.index)
    merged = left.merge(start, how="left", left_on=list(by.values()), right_index=True)
    return merged["__start"].astype(object).reindex(ctx.rows.index)


@variable_algorithm
def cycle_day_visit(ctx: SourceContext, field: str, code: str, cycle: str = "CYCLE", hours: str = "NOMHR") -> pd.Series:
    """VISIT (`field: name`) or VISITNUM (`field: number`) of a sample taken at a nominal time
    after the start of a cycle's infusion: cycle k, day d = floor(hours / 24) + 1 (a predose
    sample is day 1), written as the raw visit code `code` with {cycle} and {day} replaced (e.g.
    C{cycle}D{day} -> C1D3) and numbered by the visit schedule as the forms carrying that code are,
    so PK samples sort with the other visits of the cycle. A code the schedule lacks is reported."""
    where = f"Mapping of {ctx.domain}.{ctx.target}"
    if field not in ("name", "number"):
        raise _bad(where, f"cycle_day_visit: field must be name or number, not {field!r}")
    parts = _PLACEHOLDER.split(code)  # literal, name, literal, ...
    if sorted(parts[1::2]) != ["cycle", "day"]:
        raise _bad(where, f"cycle_day_visit: code must name {{cycle}} and {{day}} once each, not {code!r}")
    k = pd.to_numeric(ctx.column(cycle), errors="coerce")
    h = pd.to_numeric(ctx.column(hours), errors="coerce")
    ok = k.notna() & h.notna()
    values = {"cycle": k.astype("Int64").astype(str), "day": np.maximum(np.floor(h / 24) + 1, 1).astype("Int64").astype(str)}
    text = pd.Series(parts[0], index=ctx.rows.index, dtype=object)
    for name, literal in zip(parts[1::2], parts[2::2]):
        text = text + values[name] + literal
    out = visit_schedule(ctx.specs_folder, ctx.spec, f"{ctx.domain}.{ctx.target}").lookup(text.where(ok))
    bad = ok & out.VISITNUM.isna()
    if bad.any() and field == "name":
        ctx.report(bad, hours, f"no visit {code} in the visit schedule for this cycle and nominal time")
    return out.VISIT if field == "name" else out.VISITNUM


@variable_algorithm
def iso_duration(ctx: SourceContext, column: str) -> pd.Series:
    """ISO 8601 duration of a number of hours (--ELTM): 0 -> PT0H, 48 -> PT48H, 1.5 -> PT1H30M,
    -1 -> -PT1H (before the reference); minutes rounded to whole minutes; null stays null."""
    h = pd.to_numeric(ctx.column(column), errors="coerce")
    minutes = (h.abs() * 60).round()
    whole, rest = (minutes // 60).astype("Int64"), (minutes % 60).astype("Int64")
    hours_part = (whole.astype(str) + "H").where((whole > 0) | (rest == 0), "")
    minutes_part = (rest.astype(str) + "M").where(rest > 0, "")
    sign = pd.Series(np.where(h < 0, "-", ""), index=h.index)
    out = sign + "PT" + hours_part.astype(str) + minutes_part.astype(str)
    return out.astype(object).where(h.notna())


@variable_algorithm
def censored_result(ctx: SourceContext, column: str, limits: dict, numeric: bool = False) -> pd.Series:
    """--STRESC (or --STRESN with `numeric`) of a laboratory result reported as a number or as a
    token for a result below an assay limit, e.g. {"<LOD": LOD, "<LLOQ": LLOQ}: a number is kept
    (rounded, no trailing .0); a token becomes "<" and that record's limit from the named raw
    column ("<3", "<50") in --STRESC and null in --STRESN. Any other value is reported (by the
    --STRESC mapping only, so that it is reported once) and left null."""
    if not limits:
        raise _bad(f"Mapping of {ctx.domain}.{ctx.target}", "censored_result: limits needs at least one token")
    raw = ctx.column(column).astype(object)
    value = pd.to_numeric(raw, errors="coerce")
    if numeric:
        out = value.astype(float)
    else:
        out = number_text(value, decimals=10)
        for token, limit_column in limits.items():
            limit = number_text(ctx.column(limit_column), decimals=10)
            out = out.where(raw != token, "<" + limit)
    known = value.notna() | raw.isin(list(limits)) | raw.isna()
    if not numeric and (~known).any():
        ctx.report(~known, column, "neither a number nor a known below-limit token")
    return out.astype(float) if numeric else out.astype(object).where(known)


# --- domain algorithms -----------------------------------------------------------------------


@domain_algorithm
def derive_drop_empty(df: pd.DataFrame, ctx: DomainContext, target: str) -> pd.DataFrame:
    """Removes the records whose `target` is null: a supplemental qualifier exists only where the
    qualifier has a value (SDTMIG 8.4), so an empty one is no record rather than an exception."""
    if target not in df.columns:
        raise _bad(f"Mapping of {ctx.domain}", f"drop_empty: {target} is not a variable of the records")
    value = df[target].astype(object)
    keep = value.notna() & (value.astype(str).str.strip() != "")
    return df[keep.to_numpy()]


def split_words(values: pd.Series, width: int = MAX_TEXT) -> pd.DataFrame:
    """Each text cut into pieces of at most `width` bytes (UTF-8), between words where a word
    ends within the width, inside a word only where a word alone is longer: a frame with one
    column per piece (0, 1, ...), null where a text has fewer pieces. Blanks around the text and
    at each cut are dropped, so ' '.join of the pieces gives the text back wherever the cuts fell
    on single blanks. ASCII text (all XPT v5 allows) is cut once; a text with multi-byte
    characters is cut again, narrower, until every piece fits."""
    if width < 1:
        raise ValueError(f"split_words: width must be at least 1, not {width}")
    text = values.astype(object).where(values.notna()).astype("string").str.strip()
    done = []
    todo = text
    for narrower in range(width, 0, -1):
        pieces = _pieces(todo, narrower)
        nbytes = pieces.apply(lambda col: col.str.encode("utf-8").str.len())
        fits = ~(nbytes > width).any(axis=1)
        done.append(pieces[fits.to_numpy()])
        todo = todo[~fits.to_numpy()]
        if todo.empty:
            break
    out = pd.concat(done).reindex(text.index)
    out.columns = list(range(out.shape[1]))
    return out.astype("string")


def _pieces(text: pd.Series, width: int) -> pd.DataFrame:
    pattern = r"(?s)(?P<word>.{1,%d})(?:\s+|$)|(?P<hard>.{%d})" % (width, width)
    found = text.dropna().str.extractall(pattern)
    piece = found.word.fillna(found.hard).str.rstrip()
    piece = piece[piece.notna() & (piece != "")]
    if piece.empty:
        return pd.DataFrame({0: pd.Series(pd.NA, index=text.index, dtype="string")})
    number = piece.groupby(level=0).cumcount()
    wide = pd.DataFrame({"row": piece.index.get_level_values(0), "n": number.to_numpy(), "v": piece.to_numpy()})
    table = wide.pivot(index="row", columns="n", values="v").reindex(text.index)
    table.columns = list(range(table.shape[1]))
    return table.astype("string")


@domain_algorithm
def derive_split_text(df: pd.DataFrame, ctx: DomainContext, column: str, width: int = MAX_TEXT) -> pd.DataFrame:
    """The parent side of a text longer than `width` bytes (SDTMIG 4.5.3): `column` keeps its
    first piece, cut between words; the rest goes to the supplemental qualifiers with
    `text_overflow` (same cut, so the pieces join back to the collected text)."""
    if column not in df.columns:
        raise _bad(f"Mapping of {ctx.domain}", f"split_text: {column} is not a variable of the records")
    df[column] = split_words(df[column], width)[0].astype(object).where(df[column].notna())
    return df


@domain_algorithm
def derive_text_overflow(df: pd.DataFrame, ctx: DomainContext, qnam: str, qlabel: str,
                         width: int = MAX_TEXT) -> pd.DataFrame:
    """The SUPP-- side of a text longer than `width` bytes: each record holding the full collected
    text in QVAL becomes one record per piece after the first, QNAM `qnam`1, `qnam`2, ... (e.g.
    AETERM1) and QLABEL `qlabel` with the piece number; records whose text fits disappear (the
    parent holds all of it)."""
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,6}", qnam):
        raise _bad(f"Mapping of {ctx.domain}",
                   f"text_overflow: qnam {qnam!r} must be a name that leaves room for a digit in 8 characters")
    pieces = split_words(df["QVAL"], width).drop(columns=0)
    rest = pieces.stack().dropna() if len(pieces.columns) else pd.Series(dtype="string")
    if rest.empty:
        return df.iloc[0:0].copy()
    row, n = rest.index.get_level_values(0), rest.index.get_level_values(1)
    out = df.loc[row].copy()
    out["QVAL"] = rest.astype(object).to_numpy()
    number = pd.Series(n, dtype="string")
    out["QNAM"] = (qnam + number).to_numpy()
    out["QLABEL"] = (qlabel[:40 - 1 - int(number.str.len().max())] + " " + number).to_numpy()
    return out.reset_index(drop=True)


@domain_algorithm
def derive_complete_relationships(df: pd.DataFrame, ctx: DomainContext) -> pd.DataFrame:
    """RELREC: keeps the relationships (USUBJID, RELID) that have records in at least two
    domains, e.g. a response and the extramedullary assessment of the same marrow visit; a group
    found in one domain only (a screening assessment without a response) relates nothing."""
    for column in ("USUBJID", "RELID", "RDOMAIN"):
        if column not in df.columns:
            raise _bad(f"Mapping of {ctx.domain}", f"complete_relationships: the records have no {column}")
    domains = df.groupby(["USUBJID", "RELID"]).RDOMAIN.transform("nunique")
    return df[(domains >= 2).to_numpy()].drop_duplicates(["USUBJID", "RDOMAIN", "IDVAR", "IDVARVAL", "RELID"])
