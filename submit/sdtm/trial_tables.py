"""Trial design domains (TE, TA, TV, TI, TS) from the tables the study keeps in its folder, as
sponsors keep them in their spec workbook: `trial_design/TE.csv`, `TA.csv`, ... one row per record,
columns named as the domain's SDTM variables (STUDYID and DOMAIN may be left out: they are added).

A column whose name starts with `_` is a planning column: read and checked like the others, used by
a rule that needs it (TA `_PHASE`/`_CYCLE`/`_STEP` for SE, TV `_CODE` for the visit codes, TS
`_CODELIST`/`_FROM`), never written to the domain.

* `trial_table`: a domain that is its table (TE, TA, TV, TI);
* `arm`: DM's ARMCD from the subject's raw cohort (a declared map) and ARM as TA names it;
* `trial_summary`: TS from its table, with TSPARM of CDISC CT parameters, the codes of CT values
  (`_CODELIST`) looked up in the study's CT version, values referenced to study.yaml keys or derived
  from DM (`_FROM`).

Each record traces to its table and row (`__raw`, `__row`: 1-based data row, header excluded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.sdtm.algorithms import (DomainContext, SourceContext, _has_records, _per_subject, domain_algorithm, raw_text,
                                    study_attribute, variable_algorithm)
from submit.spec.ct import load_terminology
from submit.spec.model import Spec

PLANNING = "_"  # prefix of planning columns
IDENTIFIERS = ("STUDYID", "DOMAIN")


def _folder(folder: Path | None, where: str) -> Path:
    if folder is None:
        raise InputError(f"Trial design of {where}", [Problem(where, "the study folder is not known to the mapping")])
    return folder


def load_trial_table(folder: Path | None, file: str, spec: Spec, domain: str, study_id: str | None = None,
                     optional: tuple[str, ...] = (), planning: tuple[str, ...] = ()) -> pd.DataFrame:
    """A trial design table of `domain`, checked against the spec: every column a variable of the
    domain or a planning column, every required variable present (except `optional`, which the
    algorithm derives) and filled, `planning` columns present, numbers numeric, no two rows with
    the same dataset keys. All problems at once, naming file, row and column. Text values are
    str or None, numeric variables float; `__raw`/`__row` trace each row."""
    path = _folder(folder, domain) / file
    if not path.is_file():
        raise InputError(f"Trial design table of {domain}", [Problem(str(path), "no such file")])
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    variables = {v.name: v for v in spec.variables_of(domain)}
    problems = [Problem(file, f"{c} is not a variable of {domain} in the spec (a planning column starts with "
                              f"{PLANNING!r})", column=c)
                for c in table.columns if not c.startswith(PLANNING) and c not in variables]
    problems += [Problem(file, f"required column {c} is missing", column=c)
                 for c in [*(n for n, v in variables.items() if v.mandatory and n not in IDENTIFIERS
                             and n not in optional), *planning] if c not in table.columns]
    table = table.where(table.map(str.strip) != "", None)
    rows = pd.Series(np.arange(1, len(table) + 1), index=table.index)
    for name in table.columns:
        v = variables.get(name)
        if v is not None and v.mandatory and name not in optional:
            for r in rows[table[name].isna()]:
                problems.append(Problem(file, f"{name} is required", row=int(r), column=name))
        if v is not None and not v.is_char:
            number = pd.to_numeric(table[name], errors="coerce")
            for r, value in zip(rows[table[name].notna() & number.isna()], table[name][table[name].notna() & number.isna()]):
                problems.append(Problem(file, f"{value!r} is not a number", row=int(r), column=name))
    for name, expected in (("STUDYID", study_id), ("DOMAIN", domain)):
        if name in table and expected is not None:
            for r in rows[table[name].notna() & (table[name] != expected)]:
                problems.append(Problem(file, f"{name} must be {expected} or empty", row=int(r), column=name))
    keys = [k for k in spec.dataset(domain).keys if k not in IDENTIFIERS]
    if keys and set(keys) <= set(table.columns):  # else a key is derived (TSSEQ) and unique by construction
        dup = table.duplicated(keys, keep=False)
        for r in rows[dup]:
            problems.append(Problem(file, f"two rows with the same {', '.join(keys)}", row=int(r)))
    if problems:
        raise InputError(f"Trial design table {path} is invalid", problems)
    for name in table.columns:
        v = variables.get(name)
        table[name] = pd.to_numeric(table[name]).astype(float) if v is not None and not v.is_char \
            else table[name].astype(object)
    table["__raw"] = file
    table["__row"] = rows.to_numpy()
    return table


def _identify(df: pd.DataFrame, ctx: DomainContext) -> pd.DataFrame:
    df = df.drop(columns=[c for c in IDENTIFIERS if c in df])
    df.insert(0, "STUDYID", ctx.study.study.id)
    df.insert(1, "DOMAIN", ctx.domain)
    return df


@domain_algorithm
def derive_trial_table(df: pd.DataFrame, ctx: DomainContext, file: str) -> pd.DataFrame:
    """The domain as its table in the study folder (`file`, relative to the folder, e.g.
    trial_design/TE.csv): a mapping without sources."""
    return _identify(load_trial_table(ctx.specs_folder, file, ctx.spec, ctx.domain, ctx.study.study.id), ctx)


@variable_algorithm
def arm(ctx: SourceContext, field: str, values: dict, raw: str = "cohort", column: str = "COHORT",
        subject: str | None = None, only_if_in: str | None = None, arms: str = "trial_design/TA.csv") -> pd.Series:
    """ARMCD (`field: armcd`) of the subject's raw arm or cohort value (`values`: raw value -> ARMCD,
    one record per subject in `raw`), or ARM (`field: label`), the name TA gives that ARMCD; with
    `only_if_in`, only for subjects with records there (the actual arm). A raw value not in `values`
    or an ARMCD not in TA is reported."""
    where = f"Mapping of {ctx.domain}.{ctx.target}"
    if field not in ("armcd", "label"):
        raise InputError(where, [Problem("mapping", f"arm: field must be armcd or label, not {field!r}")])
    ta = load_trial_table(ctx.specs_folder, arms, ctx.spec, "TA", ctx.study.study.id)
    unknown = sorted(set(map(str, values.values())) - set(ta.ARMCD))
    if unknown:
        raise InputError(where, [Problem("mapping", f"arm: ARMCD {', '.join(unknown)} not in {arms}")])
    table = {str(k): str(v) for k, v in values.items()}
    if field == "label":
        names = ta.drop_duplicates("ARMCD").set_index("ARMCD").ARM
        table = {k: names[v] for k, v in table.items()}
    own = subject or ctx.subject_of()
    cohort = ctx.column(own).map(raw_text(_per_subject(ctx, raw, column, subject)))
    out = cohort.map(table).where(cohort.notna())
    if field == "armcd" and (cohort.notna() & out.isna()).any():
        bad = cohort.notna() & out.isna()
        ctx.exceptions.add(ctx.domain, ctx.raw_name, ctx.rows.index[bad.to_numpy()], own, ctx.column(own)[bad],
                           f"the subject's {raw}.{column} value has no ARMCD in the mapping")
    if only_if_in is not None:
        out = out.where(_has_records(ctx, only_if_in, subject))
    return out.astype(object)


# --- TS -------------------------------------------------------------------------------------------

NULL_FLAVORS = ("NI", "INV", "OTH", "PINF", "NINF", "UNC", "DER", "UNK", "ASKU", "NAV", "NASK", "QS", "TRC",
                "MSK", "NA")
CDISC_CT = "CDISC CT"
FROM_DM = "DM"
DERIVED_FROM_DM = ("SSTDTC", "ACTSUB")


def _check_summary(ts: pd.DataFrame, file: str) -> list[Problem]:
    """Each parameter has either a value (typed or `_FROM`) or a null flavor; `_CODELIST` and a
    typed TSVALCD exclude each other; DM derives only SSTDTC and ACTSUB."""
    problems = []
    source = ts.get("_FROM", pd.Series(None, index=ts.index, dtype=object))
    codelist = ts.get("_CODELIST", pd.Series(None, index=ts.index, dtype=object))
    for i, r in ts.iterrows():  # a trial summary has a few dozen parameters
        row, parm = int(r["__row"]), r["TSPARMCD"]
        has_value, has_nf, has_from = pd.notna(r.get("TSVAL")), pd.notna(r.get("TSVALNF")), pd.notna(source[i])
        if has_from and (has_value or has_nf):
            problems.append(Problem(file, f"{parm}: the value comes from {source[i]}; leave TSVAL and TSVALNF empty",
                                    row=row, column="TSVAL"))
        elif not has_from and has_value == has_nf:
            problems.append(Problem(file, f"{parm}: give either TSVAL or TSVALNF (or _FROM)", row=row, column="TSVAL"))
        if has_nf and r["TSVALNF"] not in NULL_FLAVORS:
            problems.append(Problem(file, f"{parm}: {r['TSVALNF']!r} is not an ISO 21090 null flavor", row=row,
                                    column="TSVALNF"))
        if has_value and len(str(r["TSVAL"])) > 200:
            problems.append(Problem(file, f"{parm}: longer than 200 characters (TSVAL1..n are not supported)",
                                    row=row, column="TSVAL"))
        if pd.notna(codelist[i]) and pd.notna(r.get("TSVALCD")):
            problems.append(Problem(file, f"{parm}: give _CODELIST (CDISC CT, code looked up) or TSVALCD, not both",
                                    row=row, column="TSVALCD"))
        if has_from and source[i] == FROM_DM and parm not in DERIVED_FROM_DM:
            problems.append(Problem(file, f"{parm}: only {' and '.join(DERIVED_FROM_DM)} are derived from DM", row=row,
                                    column="_FROM"))
    return problems


NOT_ASSIGNED = ("SCRNFAIL", "NOTASSGN")  # ARMCD of subjects never assigned to an arm (SDTMIG before 3.3)


def enrolled_subjects(dm: pd.DataFrame) -> pd.DataFrame:
    """The DM records of subjects assigned to an arm: screen failures (ARMCD missing, or SCRNFAIL /
    NOTASSGN as SDTMIG before 3.3 coded them) are not enrolled."""
    armcd = dm.ARMCD.astype("string").str.upper()
    return dm[armcd.notna() & ~armcd.isin(NOT_ASSIGNED)]


def study_start_date(dm: pd.DataFrame) -> tuple[str | None, int | None]:
    """SSTDTC by the FDA definition: the earliest informed consent (DM.RFICDTC) of an enrolled
    subject; a DM without any consent date gives the earliest first study treatment (RFSTDTC), the
    closest date DM has. With the 1-based DM row it is traced to (None, None: no complete date)."""
    dm = dm.reset_index(drop=True)
    enrolled = enrolled_subjects(dm)
    for column in ("RFICDTC", "RFSTDTC"):
        if column not in enrolled:
            continue
        dates = enrolled[column].dropna().astype(str)
        dates = dates[dates.str.len() >= 10].str.slice(0, 10)
        if len(dates):
            first = dates.min()
            return first, int(dates.index[dates == first][0]) + 1
    return None, None


def _from_dm(ctx: DomainContext) -> dict[str, tuple[str | None, int | None]]:
    """SSTDTC: `study_start_date`, traced to that subject's DM record; ACTSUB: the number of
    enrolled subjects in DM."""
    dm = ctx.dm
    if dm is None:
        raise InputError(f"Mapping of {ctx.domain}", [Problem("mapping", "trial_summary needs DM (study start date, "
                                                                         "actual number of subjects)")])
    return {"SSTDTC": study_start_date(dm), "ACTSUB": (str(len(enrolled_subjects(dm))), None)}


def parameter_names(ct, codes: pd.Series) -> pd.Series:
    """TSPARM of each TSPARMCD: the CT parameter name paired with the code (same C-code); missing
    for a code outside CT."""
    terms = ct.terms
    parm_codes = terms[terms.codelist == ct.codelist_code("TSPARMCD")].set_index("value").code
    parm_names = terms[terms.codelist == ct.codelist_code("TSPARM")].set_index("code").value
    return codes.map(parm_codes).map(parm_names)


def _ct_codes(terms: pd.DataFrame, ct, codelist: pd.Series, value: pd.Series, file: str) -> pd.Series:
    """C-codes of (codelist short name, submission value) pairs; an unknown pair is an error."""
    wanted = pd.DataFrame({"cl": codelist, "value": value}).dropna()
    if wanted.empty:
        return pd.Series(None, index=codelist.index, dtype=object)
    problems, ids = [], {}
    for cl in wanted.cl.unique():  # a handful of codelists
        try:
            ids[cl] = ct.codelist_code(cl)
        except KeyError as exc:
            problems.append(Problem(file, f"trial_summary: {exc}", column="_CODELIST"))
    if problems:
        raise InputError(f"Trial summary {file}", problems)
    wanted["codelist"] = wanted.cl.map(ids)
    hit = wanted.reset_index().merge(terms[["codelist", "value", "code"]], how="left", on=["codelist", "value"])
    missing = hit[hit.code.isna()]
    if len(missing):
        raise InputError(f"Trial summary {file}", [Problem(file, f"{r.value!r} is not in CDISC CT {ct.version} "
                                                                  f"codelist {r.cl}", column="TSVAL")
                                                    for r in missing.itertuples()])
    return hit.set_index("index").code.reindex(codelist.index).astype(object)


@domain_algorithm
def derive_trial_summary(df: pd.DataFrame, ctx: DomainContext, file: str) -> pd.DataFrame:
    """TS from its table (`file`, e.g. trial_design/TS.csv), one row per parameter value, in the
    order written (TSSEQ numbers the values of a parameter in that order unless given). Planning
    columns: `_CODELIST` names the CDISC CT codelist of TSVAL (TSVALCD is the term's C-code, TSVCDREF
    CDISC CT, TSVCDVER the study's CT version: looked up, never typed); `_FROM` takes TSVAL from a
    study.yaml key (e.g. study.title, dates.data_cutoff: written once, read by every stage) or, for
    SSTDTC and ACTSUB, `DM` (derived from the data, see `_from_dm`; no value: TSVALNF NI). TSPARM is
    the CT name paired with TSPARMCD (same C-code); a sponsor parameter outside CT types TSPARM."""
    ts = load_trial_table(ctx.specs_folder, file, ctx.spec, ctx.domain, ctx.study.study.id,
                          optional=("TSSEQ", "TSPARM"))
    for col in ("TSSEQ", "TSGRPID", "TSPARM", "TSVAL", "TSVALNF", "TSVALCD", "TSVCDREF", "TSVCDVER", "_CODELIST",
                "_FROM"):
        if col not in ts:
            ts[col] = None
    problems = _check_summary(ts, file)
    source = ts["_FROM"]
    from_study = source.notna() & (source != FROM_DM)
    for i in ts.index[from_study]:
        try:
            ts.loc[i, "TSVAL"] = study_attribute(ctx.study, source[i], f"{file} _FROM")
        except InputError as err:
            problems.append(Problem(file, f"{source[i]!r}: {err.summary}", row=int(ts.loc[i, "__row"]),
                                    column="_FROM"))
    if problems:
        raise InputError(f"Trial summary {file} is invalid", problems)
    from_dm = source == FROM_DM
    if from_dm.any():
        derived = _from_dm(ctx)
        value = ts.TSPARMCD.map(lambda p: derived.get(p, (None, None))[0])
        dm_row = ts.TSPARMCD.map(lambda p: derived.get(p, (None, None))[1])
        ts.loc[from_dm, "TSVAL"] = value[from_dm]
        no_value = from_dm & value.isna()
        ts.loc[no_value, "TSVALNF"] = "NI"
        ts.loc[no_value, "TSVCDREF"] = None
        traced = from_dm & dm_row.notna()
        ts.loc[traced, "__raw"] = "DM"
        ts.loc[traced, "__row"] = dm_row[traced].astype(int)
    ct = load_terminology(ctx.study.standards.ct)
    terms = ct.terms
    ts["TSPARM"] = ts.TSPARM.fillna(parameter_names(ct, ts.TSPARMCD))
    unknown = ts.TSPARM.isna()
    if unknown.any():
        raise InputError(f"Trial summary {file} is invalid",
                         [Problem(file, f"{p} is not in CDISC CT {ct.version} TSPARMCD; type TSPARM for a sponsor "
                                        "parameter", row=int(r), column="TSPARM")
                          for p, r in zip(ts.TSPARMCD[unknown], ts["__row"][unknown])])
    in_ct = ts["_CODELIST"].notna()
    ts["TSVALCD"] = _ct_codes(terms, ct, ts["_CODELIST"], ts.TSVAL.where(in_ct), file).fillna(ts.TSVALCD)
    ts["TSVCDREF"] = ts.TSVCDREF.where(~in_ct, CDISC_CT)
    ts["TSVCDVER"] = ts.TSVCDVER.where(~in_ct, ct.version)
    ts["TSSEQ"] = ts.TSSEQ.fillna((ts.groupby("TSPARMCD", sort=False).cumcount() + 1).astype(float))
    return _identify(ts.drop(columns=["_CODELIST", "_FROM"]), ctx)
