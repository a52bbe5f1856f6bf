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


def sas_format(name: str | None) -> str:
    """A SAS format as SAS prints it ("DATE9.", "$CHAR20.", "8.2"): readers drop the period of
    formats without decimals ("DATE9"), and formats must compare equal whatever file they came from."""
    name = (name or "").strip().upper()
    return name + "." if name and "." not in name else name


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
            format=sas_format((meta.original_variable_types or {}).get(name)),
        )
        for name in df.columns
    }
    name = (meta.table_name or path.stem).strip()
    return df, DatasetMeta(name=name, label=meta.file_label or "", variables=variables,
                           source=str(path), format=fmt)


SAS_EPOCH = pd.Timestamp("1960-01-01")


def _sas_number(values: pd.Series, data_type: str) -> pd.Series:
    """ISO 8601 date/datetime/time strings as the SAS numbers they stand for (days or seconds since
    1960-01-01, seconds since midnight); what Dataset-JSON's targetDataType "integer" asks for."""
    values = values.mask(values == "")  # blank is missing
    if data_type == "time":
        return pd.to_timedelta(values).dt.total_seconds()
    stamps = pd.to_datetime(values, format="ISO8601")
    unit = pd.Timedelta(days=1) if data_type == "date" else pd.Timedelta(seconds=1)
    return (stamps - SAS_EPOCH) / unit


def _dataset_json_document(path: Path) -> tuple[list[dict], list[list], str | None, str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".ndjson":  # Dataset-JSON 1.1 NDJSON: metadata line, then one row a line
        lines = [line for line in text.splitlines() if line.strip()]
        doc = json.loads(lines[0])
        return doc["columns"], [json.loads(line) for line in lines[1:]], doc.get("name"), doc.get("label", "")
    doc = json.loads(text)
    if "columns" in doc:  # Dataset-JSON 1.1
        return doc["columns"], doc.get("rows", []), doc.get("name"), doc.get("label", "")
    # Dataset-JSON 1.0: clinicalData/referenceData -> itemGroupData -> one group
    body = doc.get("clinicalData") or doc.get("referenceData")
    group = next(iter(body["itemGroupData"].values()))
    columns = [c for c in group["items"] if c.get("name") != "ITEMGROUPDATASEQ"]
    return columns, [r[1:] for r in group.get("itemData", [])], group.get("name"), group.get("label", "")


def _dataset_json(path: Path, as_text: bool) -> tuple[pd.DataFrame, DatasetMeta]:
    columns, rows, name, label = _dataset_json_document(path)
    names = [c["name"] for c in columns]
    df = pd.DataFrame(rows, columns=names)
    variables = {}
    for c in columns:
        data_type = c.get("dataType")
        numeric = data_type in ("integer", "float", "double", "decimal")
        if numeric:
            df[c["name"]] = pd.to_numeric(df[c["name"]])
        elif as_text and data_type in ("date", "datetime", "time") and c.get("targetDataType") == "integer":
            df[c["name"]] = _sas_number(df[c["name"]], data_type)
            numeric = True
        variables[c["name"]] = VariableMeta(
            name=c["name"], type="num" if numeric else "char", length=c.get("length"),
            label=c.get("label", ""), format=sas_format(c.get("displayFormat")))
    return df, DatasetMeta(name=name or path.stem, label=label, variables=variables,
                           source=str(path), format="dataset-json")


def read_dataset(path: str | Path, as_text: bool = False) -> tuple[pd.DataFrame, DatasetMeta]:
    """Return the data and its attributes. `as_text` reads CSV cells as strings, untouched
    (empty cells become ""), and leaves SAS dates as numbers (Dataset-JSON dates whose targetDataType
    is "integer" become those numbers too), for callers that check types themselves or compare with SAS."""
    path = Path(path)
    fmt = dataset_format(path)
    if fmt in ("xpt", "sas7bdat"):
        return _sas(path, fmt, as_text)
    if fmt == "dataset-json":
        return _dataset_json(path, as_text)
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
