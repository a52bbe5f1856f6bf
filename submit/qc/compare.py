"""PROC COMPARE for two datasets, for double-programming QC.

Pure functions: two (DataFrame, DatasetMeta) pairs in, a `DatasetComparison` out; `pair_folders`
pairs the datasets of two folders. Reading files and writing reports live elsewhere.

Semantics follow PROC COMPARE: variable names are case-insensitive; observations are matched by the
BY (ID) variables, or by position without them; duplicate keys are paired in order of appearance;
numbers are judged unequal when METHOD/CRITERION say so; missing equals missing only; character
values compare blank-padded (trailing blanks ignored) unless asked otherwise.

Why not datacompy (tried, version 1.1): it merges every column of both datasets, then copies the
merged frame through boolean selections; with pandas 3's Arrow-backed strings that spent 9.3 s of 10.7 s
on the 1,000,000 x 20 benchmark (benchmarks/bench_compare.py), where merging the keys alone and taking
each column by row number with numpy does the whole compare in a fraction of that. Its semantics would
need overriding anyway: numpy.isclose (|x-y| <= atol + rtol*|y|) is not SAS's relative difference, its
ignore_spaces strips leading blanks too, and its mismatch sample is random where SAS lists the first N
by key. What is left (attributes, duplicate keys, listings) it does not do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from submit.dataset_io import FORMATS, DatasetMeta, VariableMeta
from submit.errors import InputError, Problem

METHODS = ("exact", "absolute", "relative")
DEFAULT_CRITERION = 1e-5  # PROC COMPARE's CRITERION= default
OBS = "#OBS"  # the key when matching by position (not a valid SAS name: no clash); shown as "Obs", as in SAS
OBS_LABEL = "Obs"

# The attributes each format really stores: one absent from either side is not compared, so that a
# CSV (no labels) against an XPT does not report every label as different.
STORED_ATTRIBUTES = {
    "xpt": ("length", "label", "format"),
    "sas7bdat": ("length", "label", "format"),
    "dataset-json": ("length", "label", "format"),
    "parquet": (),
    "csv": (),
}
STORES_DATASET_LABEL = {"xpt", "sas7bdat", "dataset-json"}
UNTYPED_FORMATS = {"csv"}  # their types are guesses, settled against the other side


@dataclass(frozen=True)
class CompareOptions:
    by: tuple[str, ...] = ()
    method: str = "exact"
    criterion: float = DEFAULT_CRITERION
    ignore_case: bool = False
    ignore_trailing_blanks: bool = True
    max_print: int = 50


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    label: str
    source: str
    format: str
    observations: int
    variables: int


@dataclass(frozen=True)
class AttributeDifference:
    variable: str | None  # None: an attribute of the dataset itself
    attribute: str
    base: object
    compare: object


@dataclass(frozen=True)
class Listing:
    """How many rows were found, and the first `max_print` of them (key columns, then details)."""

    count: int
    rows: pd.DataFrame
    observations: int | None = None  # duplicate keys: the observations that carry them


@dataclass(frozen=True)
class ValueDifferences:
    variable: str
    type: str  # "num" or "char"
    length: int | None  # the base's
    label: str
    count: int
    missing_count: int  # one side missing, the other not
    max_difference: float | None  # largest |compare - base| over non-missing pairs (numbers only)
    max_relative_difference: float | None  # PROC COMPARE's relative measure, same pairs
    rows: pd.DataFrame  # keys, BASE, COMPARE (and DIFF for numbers)


@dataclass
class DatasetComparison:
    name: str
    base: DatasetSummary
    compare: DatasetSummary
    keys: list[str]  # display names; [OBS_LABEL] when matched by position
    options: CompareOptions
    dataset_differences: list[AttributeDifference] = field(default_factory=list)
    variables_only_in_base: list[VariableMeta] = field(default_factory=list)
    variables_only_in_compare: list[VariableMeta] = field(default_factory=list)
    attribute_differences: list[AttributeDifference] = field(default_factory=list)
    only_in_base: Listing | None = None
    only_in_compare: Listing | None = None
    duplicates_base: Listing | None = None
    duplicates_compare: Listing | None = None
    compared_variables: list[str] = field(default_factory=list)
    observations_compared: int = 0
    observations_unequal: int = 0
    value_differences: list[ValueDifferences] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def by_position(self) -> bool:
        return self.keys == [OBS_LABEL]

    @property
    def equal(self) -> bool:
        # Duplicate keys alone do not make datasets unequal (nor do they in PROC COMPARE): they are
        # paired in order, and any mismatch they cause shows up as observation or value differences.
        return not (self.dataset_differences or self.variables_only_in_base or self.variables_only_in_compare
                    or self.attribute_differences or self.only_in_base.count or self.only_in_compare.count
                    or self.value_differences)


@dataclass
class ComparisonRun:
    """One `submit compare`: a pair of datasets, or every pair of two folders."""

    base: str
    compare: str
    options: CompareOptions
    comparisons: list[DatasetComparison]
    only_in_base: list[str] = field(default_factory=list)  # folder mode: datasets with no partner
    only_in_compare: list[str] = field(default_factory=list)
    folders: bool = False

    @property
    def equal(self) -> bool:
        return not self.only_in_base and not self.only_in_compare and all(c.equal for c in self.comparisons)


# ---------------------------------------------------------------------------------------------- values

def numbers_equal(x: np.ndarray, y: np.ndarray, method: str, criterion: float) -> np.ndarray:
    """PROC COMPARE's equality of numbers, elementwise. Unequal when (x base, y compare):
    exact: y != x; absolute: |y-x| > criterion; relative: |y-x| / ((|x|+|y|)/2) > criterion (0 = 0).
    Missing equals missing; missing against a number is unequal."""
    x_missing, y_missing = np.isnan(x), np.isnan(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "exact":
            unequal = x != y
        elif method == "absolute":
            unequal = np.abs(y - x) > criterion
        elif method == "relative":
            unequal = relative_difference(x, y) > criterion  # 0/0 is NaN, and NaN > c is False: equal
        else:
            raise ValueError(f"unknown method {method!r} (expected one of {METHODS})")
    return (x_missing & y_missing) | (~x_missing & ~y_missing & ~unequal)


def relative_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(y - x) / ((np.abs(x) + np.abs(y)) / 2)


def normalize_text(values: pd.Series, ignore_case: bool, ignore_trailing_blanks: bool) -> pd.Series:
    """Character values as compared: missing is blank (as in SAS), then the options. Only blanks are
    trailing blanks: a trailing tab or newline is data, as it is in SAS."""
    values = values.fillna("").astype("str")
    if ignore_trailing_blanks:
        values = values.str.rstrip(" ")
    if ignore_case:
        values = values.str.casefold()
    return values


def texts_equal(a: pd.Series, b: pd.Series, ignore_case: bool, ignore_trailing_blanks: bool) -> np.ndarray:
    a = normalize_text(a, ignore_case, ignore_trailing_blanks)
    b = normalize_text(b, ignore_case, ignore_trailing_blanks)
    return np.asarray(a.array == b.array, dtype=bool)  # positional: the indexes may differ


# ------------------------------------------------------------------------------------------- datasets

def compare_datasets(base_df: pd.DataFrame, base_meta: DatasetMeta, comp_df: pd.DataFrame,
                     comp_meta: DatasetMeta, options: CompareOptions, *,
                     keys_may_be_absent: bool = False) -> DatasetComparison:
    """Compare two datasets as PROC COMPARE would. `keys_may_be_absent` (folder mode) drops a BY
    variable that neither dataset has instead of failing, since one BY list serves many datasets."""
    base_df, base_vars = _canonical(base_df, base_meta)
    comp_df, comp_vars = _canonical(comp_df, comp_meta)
    base_df, base_vars = _settle_untyped(base_df, base_vars, base_meta.format, comp_vars, comp_meta.format)
    comp_df, comp_vars = _settle_untyped(comp_df, comp_vars, comp_meta.format, base_vars, base_meta.format)

    result = DatasetComparison(
        name=base_meta.name or comp_meta.name, base=_summary(base_df, base_meta), compare=_summary(comp_df, comp_meta),
        keys=[], options=options)
    keys = _keys(options.by, base_vars, comp_vars, base_meta, comp_meta, keys_may_be_absent, result.notes)
    display = {v: m.name for v, m in {**comp_vars, **base_vars}.items()} | {OBS: OBS_LABEL}
    result.keys = [display[k] for k in keys] if keys else [OBS_LABEL]

    common = [v for v in base_vars if v in comp_vars]
    result.variables_only_in_base = [m for v, m in base_vars.items() if v not in comp_vars]
    result.variables_only_in_compare = [m for v, m in comp_vars.items() if v not in base_vars]
    result.dataset_differences = _dataset_differences(base_meta, comp_meta)
    result.attribute_differences = [d for v in common for d in _attribute_differences(
        base_vars[v], comp_vars[v], base_meta.format, comp_meta.format)]
    compared = [v for v in common if v not in keys and base_vars[v].type == comp_vars[v].type]
    result.compared_variables = [display[v] for v in compared]

    if not keys:  # match by position
        keys = [OBS]
        base_df = base_df.assign(**{OBS: np.arange(1, len(base_df) + 1)})
        comp_df = comp_df.assign(**{OBS: np.arange(1, len(comp_df) + 1)})
    base_df = _prepare(base_df, keys, compared, base_vars, options)
    comp_df = _prepare(comp_df, keys, compared, comp_vars, options)
    result.duplicates_base = _duplicates(base_df, keys, display, options.max_print)
    result.duplicates_compare = _duplicates(comp_df, keys, display, options.max_print)
    _compare_values(result, base_df, comp_df, keys, compared, base_vars, display, options)
    return result


def _canonical(df: pd.DataFrame, meta: DatasetMeta) -> tuple[pd.DataFrame, dict[str, VariableMeta]]:
    """Upper-case the column names (SAS names are case-insensitive); the metas keep the file's spelling."""
    names = [str(c) for c in df.columns]
    upper = [n.upper() for n in names]
    clashes = sorted({u for u in upper if upper.count(u) > 1})
    if clashes:
        raise InputError(f"{meta.source}: variable names differ only in case",
                         [Problem(meta.source, f"variables {[n for n in names if n.upper() == u]} are one SAS variable")
                          for u in clashes])
    variables = {u: meta.variables.get(n) or VariableMeta(name=n, type=_guess_type(df[c]))
                 for u, n, c in zip(upper, names, df.columns)}
    return df.set_axis(upper, axis=1), variables


def _guess_type(values: pd.Series) -> str:
    return "num" if pd.api.types.is_numeric_dtype(values) else "char"


def _settle_untyped(df: pd.DataFrame, variables: dict[str, VariableMeta], fmt: str,
                    other: dict[str, VariableMeta], other_fmt: str) -> tuple[pd.DataFrame, dict[str, VariableMeta]]:
    """A CSV stores no types: a text column is numeric where the other side says so (or, when the other
    side has no types either, wherever it can be), provided every non-blank cell is a number. Guessing
    alone would report SITEID "101" as a type conflict with an XPT that stores it as text."""
    if fmt not in UNTYPED_FORMATS:
        return df, variables
    settled, columns = dict(variables), {}
    for name, meta in variables.items():
        typed_elsewhere = name in other and other_fmt not in UNTYPED_FORMATS
        wanted = other[name].type if typed_elsewhere else "num"
        numbers = _as_numbers(df[name]) if wanted == "num" else None
        if numbers is not None:
            columns[name] = numbers
        kind = "num" if numbers is not None or pd.api.types.is_numeric_dtype(df[name]) else "char"
        settled[name] = VariableMeta(meta.name, kind, meta.length, meta.label, meta.format)
    return (df.assign(**columns) if columns else df), settled


def _as_numbers(values: pd.Series) -> pd.Series | None:
    """The column as float64 if every non-blank cell is a number, else None."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.fillna("").astype("str").str.strip()
    blank = text == ""
    numbers = pd.to_numeric(text.mask(blank), errors="coerce")
    return numbers.astype("float64") if bool((numbers.notna() | blank).all()) else None


def _summary(df: pd.DataFrame, meta: DatasetMeta) -> DatasetSummary:
    return DatasetSummary(name=meta.name, label=meta.label or "", source=meta.source, format=meta.format,
                          observations=len(df), variables=df.shape[1])


def _keys(by: tuple[str, ...], base_vars: dict, comp_vars: dict, base_meta: DatasetMeta,
          comp_meta: DatasetMeta, may_be_absent: bool, notes: list[str]) -> list[str]:
    keys, problems = [], []
    for name in dict.fromkeys(b.upper() for b in by):
        in_base, in_comp = name in base_vars, name in comp_vars
        if not in_base and not in_comp and may_be_absent:
            notes.append(f"BY variable {name} is in neither dataset: not used for this one")
            continue
        for present, meta in ((in_base, base_meta), (in_comp, comp_meta)):
            if not present:
                problems.append(Problem(meta.source, f"BY variable {name} is not in the dataset", column=name))
        if in_base and in_comp and base_vars[name].type != comp_vars[name].type:
            problems.append(Problem(comp_meta.source, f"BY variable {name} is {comp_vars[name].type} here but "
                                    f"{base_vars[name].type} in {base_meta.source}", column=name))
        keys.append(name)
    if problems:
        raise InputError(f"cannot match observations of {base_meta.name or base_meta.source} by "
                         f"{', '.join(b.upper() for b in by)}", problems)
    return keys


def _dataset_differences(base: DatasetMeta, comp: DatasetMeta) -> list[AttributeDifference]:
    if base.format in STORES_DATASET_LABEL and comp.format in STORES_DATASET_LABEL \
            and (base.label or "").strip() != (comp.label or "").strip():
        return [AttributeDifference(None, "label", base.label, comp.label)]
    return []


def _attribute_differences(base: VariableMeta, comp: VariableMeta, base_fmt: str,
                           comp_fmt: str) -> list[AttributeDifference]:
    differences = []
    if base.type != comp.type:
        differences.append(AttributeDifference(base.name, "type", base.type, comp.type))
    stored = set(STORED_ATTRIBUTES.get(base_fmt, ())) & set(STORED_ATTRIBUTES.get(comp_fmt, ()))
    for attribute in ("length", "label", "format"):
        if attribute not in stored:
            continue
        b, c = getattr(base, attribute), getattr(comp, attribute)
        if attribute == "length" and (b is None or c is None or base.type != comp.type):
            continue  # Dataset-JSON may leave the length out; across types lengths measure different things
        if attribute != "length":
            b, c = (b or "").strip(), (c or "").strip()
            if attribute == "format" and b.upper() == c.upper():
                continue
        if b != c:
            differences.append(AttributeDifference(base.name, attribute, b, c))
    return differences


def _prepare(df: pd.DataFrame, keys: list[str], compared: list[str], variables: dict[str, VariableMeta],
             options: CompareOptions) -> pd.DataFrame:
    """Just the keys and compared variables, typed as SAS sees them: numbers float64 (NaN missing),
    characters text with missing as blank. Character keys get the trailing-blank rule, since SAS
    matches ID values blank-padded; case is left alone in keys (see the CLI help)."""
    columns = {}
    for name in dict.fromkeys(keys + compared):
        values = df[name]
        if name == OBS:
            columns[name] = values
        elif variables[name].type == "num":
            columns[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif name in keys:
            columns[name] = normalize_text(values, False, options.ignore_trailing_blanks)
        else:
            columns[name] = values.fillna("").astype("str")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(df)))


def _duplicates(df: pd.DataFrame, keys: list[str], display: dict[str, str], max_print: int) -> Listing:
    repeated = df.duplicated(keys, keep=False)
    if not repeated.any():
        return Listing(0, pd.DataFrame(columns=[display[k] for k in keys] + ["COUNT"]), 0)
    counts = df.loc[repeated, keys].value_counts(sort=False, dropna=False).sort_index().rename("COUNT").reset_index()
    return Listing(len(counts), counts.head(max_print).rename(columns=display), int(repeated.sum()))


def _compare_values(result: DatasetComparison, base_df: pd.DataFrame, comp_df: pd.DataFrame, keys: list[str],
                    compared: list[str], variables: dict[str, VariableMeta], display: dict[str, str],
                    options: CompareOptions) -> None:
    pair_duplicates = bool(result.duplicates_base.count or result.duplicates_compare.count)
    key_rows, base_row, comp_row = _match(base_df, comp_df, keys, pair_duplicates)
    in_base, in_comp = base_row >= 0, comp_row >= 0
    result.only_in_base = _key_listing(key_rows, np.flatnonzero(~in_comp), display, options.max_print)
    result.only_in_compare = _key_listing(key_rows, np.flatnonzero(~in_base), display, options.max_print)
    both = np.flatnonzero(in_base & in_comp)
    base_at, comp_at = base_row[both], comp_row[both]
    result.observations_compared = len(both)
    all_equal = np.ones(len(both), bool)
    for name in compared:
        x, y = _take(base_df[name], base_at), _take(comp_df[name], comp_at)
        if variables[name].type == "num":
            equal = numbers_equal(x.to_numpy(float), y.to_numpy(float), options.method, options.criterion)
        else:
            equal = texts_equal(x, y, options.ignore_case, options.ignore_trailing_blanks)
        all_equal &= equal
        if not equal.all():
            unequal = np.flatnonzero(~equal)
            shown_keys = key_rows.iloc[both[unequal[:options.max_print]]].rename(columns=display)
            result.value_differences.append(
                _value_differences(x, y, unequal, shown_keys, variables[name], display[name]))
    result.observations_unequal = int((~all_equal).sum())


def _match(base: pd.DataFrame, comp: pd.DataFrame, keys: list[str],
           pair_duplicates: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Outer-join the key columns only, in key order: the key values of every observation, and its
    row in each dataset (-1 where it has none). Merging the keys alone, then taking each compared
    column by row number, is what keeps a million rows fast (see the module docstring)."""
    left = base[keys].assign(_BASE_ROW=np.arange(len(base)))
    right = comp[keys].assign(_COMP_ROW=np.arange(len(comp)))
    on = list(keys)
    if pair_duplicates:  # the n-th occurrence of a key pairs with the n-th, as in PROC COMPARE
        left["_OCCURRENCE"] = left.groupby(keys, sort=False, dropna=False).cumcount()
        right["_OCCURRENCE"] = right.groupby(keys, sort=False, dropna=False).cumcount()
        on.append("_OCCURRENCE")
    merged = left.merge(right, on=on, how="outer", sort=True)
    rows = [merged[c].fillna(-1).to_numpy(np.int64) for c in ("_BASE_ROW", "_COMP_ROW")]
    return merged[keys], rows[0], rows[1]


def _take(values: pd.Series, rows: np.ndarray) -> pd.Series:
    if len(rows) == len(values) and np.array_equal(rows, np.arange(len(rows))):
        return values.reset_index(drop=True)  # same keys in the same order: the common case, no copy
    return values.iloc[rows].reset_index(drop=True)


def _key_listing(key_rows: pd.DataFrame, positions: np.ndarray, display: dict[str, str], max_print: int) -> Listing:
    return Listing(len(positions), key_rows.iloc[positions[:max_print]].reset_index(drop=True).rename(columns=display))


def _value_differences(x: pd.Series, y: pd.Series, unequal: np.ndarray, shown_keys: pd.DataFrame,
                       meta: VariableMeta, name: str) -> ValueDifferences:
    shown = unequal[:len(shown_keys)]
    rows = shown_keys.reset_index(drop=True).assign(BASE=x.iloc[shown].to_numpy(), COMPARE=y.iloc[shown].to_numpy())
    max_diff = max_rel = None
    if meta.type == "num":
        xs, ys = x.to_numpy(float)[unequal], y.to_numpy(float)[unequal]
        missing = np.isnan(xs) ^ np.isnan(ys)
        rows["DIFF"] = rows["COMPARE"].astype(float) - rows["BASE"].astype(float)  # compare - base, as SAS
        if (~missing).any():
            max_diff = float(np.nanmax(np.abs(ys - xs)))
            max_rel = float(np.nanmax(relative_difference(xs[~missing], ys[~missing])))
    else:  # a SAS character value is missing when it is all blanks
        blank = [v.iloc[unequal].fillna("").str.strip(" ").to_numpy(object) == "" for v in (x, y)]
        missing = blank[0] ^ blank[1]
    return ValueDifferences(variable=name, type=meta.type, length=meta.length, label=meta.label or "",
                            count=len(unequal), missing_count=int(missing.sum()), max_difference=max_diff,
                            max_relative_difference=max_rel, rows=rows)


# -------------------------------------------------------------------------------------------- folders

@dataclass(frozen=True)
class FolderPairing:
    pairs: list[tuple[Path, Path]]  # (base file, compare file), by dataset name
    only_in_base: list[Path]
    only_in_compare: list[Path]


def pair_folders(base_dir: Path, compare_dir: Path) -> FolderPairing:
    """Pair the datasets of two folders by name, case-insensitively and whatever their formats."""
    base, comp = _datasets_in(Path(base_dir)), _datasets_in(Path(compare_dir))
    return FolderPairing(pairs=[(base[n], comp[n]) for n in sorted(base) if n in comp],
                         only_in_base=[base[n] for n in sorted(base) if n not in comp],
                         only_in_compare=[comp[n] for n in sorted(comp) if n not in base])


def _datasets_in(folder: Path) -> dict[str, Path]:
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in FORMATS:
            found.setdefault(path.stem.lower(), []).append(path)
    ambiguous = {n: ps for n, ps in found.items() if len(ps) > 1}
    if ambiguous:
        raise InputError(f"{folder}: more than one file for a dataset; keep one format per dataset",
                         [Problem(str(folder), f"dataset {n}: {', '.join(p.name for p in ps)}")
                          for n, ps in ambiguous.items()])
    return {n: ps[0] for n, ps in found.items()}
