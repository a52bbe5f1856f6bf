"""Read a dataset in any format QC meets (XPT, SAS7BDAT, CSV, Dataset-JSON, Parquet) with its
SAS-style attributes, so that every tool compares or checks the same representation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyreadstat

FORMATS = {".xpt": "xpt", ".sas7bdat": "sas7bdat", ".csv": "csv", ".json": "dataset-json",
           ".ndjson": "dataset-json", ".parquet": "parquet"}


@dataclass(frozen=True)
class VariableMeta:
    name: str
    type: str  # "char" or "num", as SAS sees it
    length: int | None = None  # bytes for char; None when the format does not store it
    label: str = ""
    format: str = ""


@dataclass(frozen=True)
class DatasetMeta:
    name: str
    label: str = ""
    variables: dict[str, VariableMeta] = field(default_factory=dict)
    source: str = ""
    format: str = ""


def dataset_format(path: str | Path) -> str:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown dataset format {suffix!r} (expected one of {sorted(FORMATS)})")
    return FORMATS[suffix]


def _sas(path: Path, fmt: str, as_text: bool) -> tuple[pd.DataFrame, DatasetMeta]:
    reader = pyreadstat.read_xport if fmt == "xpt" else pyreadstat.read_sas7bdat
    # Dates stay as numbers here when as_text is False (SAS days since 1960) unless formatted;
    # pyreadstat converts date-formatted numerics to datetime objects.
    df, meta = reader(str(path), disable_datetime_conversion=as_text)
    widths = meta.variable_storage_width or {}
    variables = {
        name: VariableMeta(
            name=name,
            type="char" if meta.readstat_variable_types.get(name) == "string" else "num",
            length=widths.get(name),
            label=(meta.column_names_to_labels or {}).get(name) or "",
            format=(meta.original_variable_types or {}).get(name) or "",
        )
        for name in df.columns
    }
    name = (meta.table_name or path.stem).strip()
    return df, DatasetMeta(name=name, label=meta.file_label or "", variables=variables,
                           source=str(path), format=fmt)


def _dataset_json(path: Path) -> tuple[pd.DataFrame, DatasetMeta]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if "columns" in doc:  # Dataset-JSON 1.1
        columns, rows, name, label = doc["columns"], doc.get("rows", []), doc.get("name"), doc.get("label", "")
    else:  # Dataset-JSON 1.0: clinicalData/referenceData -> itemGroupData -> one group
        body = doc.get("clinicalData") or doc.get("referenceData")
        group = next(iter(body["itemGroupData"].values()))
        columns = [c for c in group["items"] if c.get("name") != "ITEMGROUPDATASEQ"]
        rows = [r[1:] for r in group.get("itemData", [])]
        name, label = group.get("name"), group.get("label", "")
    names = [c["name"] for c in columns]
    df = pd.DataFrame(rows, columns=names)
    variables = {}
    for c in columns:
        numeric = c.get("dataType") in ("integer", "float", "double", "decimal")
        variables[c["name"]] = VariableMeta(
            name=c["name"], type="num" if numeric else "char", length=c.get("length"),
            label=c.get("label", ""), format=c.get("displayFormat", ""))
        if numeric:
            df[c["name"]] = pd.to_numeric(df[c["name"]])
    return df, DatasetMeta(name=name or path.stem, label=label, variables=variables,
                           source=str(path), format="dataset-json")


def read_dataset(path: str | Path, as_text: bool = False) -> tuple[pd.DataFrame, DatasetMeta]:
    """Return the data and its attributes. `as_text` reads CSV cells as strings, untouched
    (empty cells become ""), and leaves SAS dates as numbers, for callers that check types themselves."""
    path = Path(path)
    fmt = dataset_format(path)
    if fmt in ("xpt", "sas7bdat"):
        return _sas(path, fmt, as_text)
    if fmt == "dataset-json":
        return _dataset_json(path)
    if fmt == "parquet":
        df = pd.read_parquet(path)
    elif as_text:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    else:
        df = pd.read_csv(path, encoding="utf-8")
    variables = {
        str(c): VariableMeta(name=str(c), type="num" if pd.api.types.is_numeric_dtype(df[c]) else "char")
        for c in df.columns
    }
    return df, DatasetMeta(name=path.stem, variables=variables, source=str(path), format=fmt)
