"""CDISC Dataset-JSON v1.1 beside the XPT files of a folder, from the folder's define.xml and the
XPT files themselves: the itemGroupOID, itemOIDs, labels, data types, lengths, display formats and
key sequence are read from define.xml as written (so they cannot drift from it), the values from the
XPT (so they are the submitted values). define.xml's def:leaf keeps pointing at the XPT, the
format FDA takes; the JSON files are the same datasets in the format CDISC and regulators move to.

Types (the specification's "Supported Column Data Type Combinations"):
- text -> "string"; blanks are "" (XPT cannot tell an empty text from a missing one).
- integer -> "integer", JSON numbers; missing is null.
- float -> "decimal" with targetDataType "decimal", the shortest decimal string that reads back to
  the same double ("162.9", never "1.629e2"), so that no digit is lost or invented.
- ISO 8601 text (--DTC) -> "date", "datetime" or "time" as define.xml says (partial values are ISO
  8601 too); incomplete, duration and interval values stay "string".
- A numeric variable with a date, datetime or time format (ADaM's ADT, ADTM, ATM) -> that dataType
  with targetDataType "integer" and its value as an ISO 8601 string, the specification's ADaM case.

Byte-reproducible: datasetJSONCreationDateTime is define.xml's CreationDateTime (the build date),
attributes come in the specification's order, separators are compact, text is UTF-8.
NDJSON (first line the metadata, then one row array a line) is written too for datasets of at least
NDJSON_MIN_RECORDS records, where a reader wants to stream.
"""

from __future__ import annotations

import json
import logging
from json.encoder import encode_basestring
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from submit.dataset_io import SAS_EPOCH, read_dataset
from submit.define.reader import Define, Group, Item, read_define
from submit.errors import DataCheckError, Problem
from submit.xpt.formats import parse_format, temporal_kind

log = logging.getLogger("submit.dataset_json")
DATASET_JSON_VERSION = "1.1.0"
NDJSON_MIN_RECORDS = 100_000
SCHEMA = Path(__file__).parent / "schemas" / "dataset-json-1.1.schema.json"
DEFINE = "define.xml"
# define.xml DataType of a text variable -> Dataset-JSON dataType
TEXT_TYPES = {"text": "string", "date": "date", "datetime": "datetime", "time": "time", "partialDate": "date",
              "partialTime": "time", "partialDatetime": "datetime", "incompleteDatetime": "string",
              "durationDatetime": "string", "intervalDatetime": "string"}
_ISO = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%S", "time": "%H:%M:%S"}
_UNIT = {"date": "D", "datetime": "s", "time": "s"}


def write_dataset_json(folder: Path, ndjson_min_records: int = NDJSON_MIN_RECORDS) -> list[Path]:
    """A `<name>.json` (and `<name>.ndjson` for large datasets) beside each XPT that `folder/define.xml`
    describes; returns the files written. DataCheckError, with every problem, when an XPT has a
    variable define.xml does not describe or a value its type cannot carry."""
    folder = Path(folder)
    if not (folder / DEFINE).is_file():
        log.info("%s: no %s, no Dataset-JSON (its OIDs come from the define)", folder, DEFINE)
        return []
    define = read_define(folder / DEFINE)
    written, problems = [], []
    for group in define.groups:
        xpt = folder / group.href
        if not group.href.lower().endswith(".xpt") or not xpt.is_file():
            continue
        try:
            metadata, rows = dataset_document(define, group, xpt)
        except DataCheckError as exc:
            problems += exc.problems
            continue
        target = xpt.with_suffix(".json")
        head = _dumps({**metadata, "rows": []})  # "rows" comes last: its "[]}" is where the rows go
        target.write_bytes(head[:-2] + ",".join(rows).encode("utf-8") + b"]}\n")
        written.append(target)
        if metadata["records"] >= ndjson_min_records:
            target = xpt.with_suffix(".ndjson")
            with target.open("wb") as out:
                out.write(_dumps(metadata) + b"\n")
                out.writelines((row + "\n").encode("utf-8") for row in rows)
            written.append(target)
    if problems:
        for path in written:  # no half-written set of files
            path.unlink()
        raise DataCheckError(f"{folder}: datasets that Dataset-JSON cannot carry as define.xml describes them",
                             problems)
    return written


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def dataset_document(define: Define, group: Group, xpt: Path) -> tuple[dict, list[str]]:
    """The metadata (every attribute but rows, in the specification's order) and the rows of one
    dataset, each as its JSON text (what `_dumps` gives for the row's array)."""
    df, meta = read_dataset(xpt, as_text=True)  # SAS dates stay numbers; blanks are ""
    items = {define.items[oid].name: define.items[oid] for oid in group.items if oid in define.items}
    missing = [Problem(str(xpt), f"{group.name}.{name} has no ItemDef in {DEFINE}") for name in df.columns
               if name not in items]
    if missing:
        raise DataCheckError(f"{xpt.name}: variables define.xml does not describe", missing)
    columns, values, problems = [], [], []
    for name in df.columns:
        column, converted, problem = _column(items[name], group, df[name], meta.variables[name].type == "num", xpt)
        columns.append(column)
        values.append(converted)
        problems += problem
    if problems:
        raise DataCheckError(f"{xpt.name}: values Dataset-JSON cannot carry", problems)
    head = define.header
    metadata = {
        "datasetJSONCreationDateTime": head["CreationDateTime"],
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{head['StudyOID']}.{group.oid}",
        "originator": head["Originator"],
        "sourceSystem": {"name": head["SourceSystem"], "version": head["SourceSystemVersion"]},
        "studyOID": head["StudyOID"],
        "metaDataVersionOID": head["MetaDataVersionOID"],
        "metaDataRef": DEFINE,
        "itemGroupOID": group.oid,
        "records": len(df),
        "name": group.name,
        "label": group.label,
        "columns": columns,
    }
    metadata = {k: v for k, v in metadata.items() if v != "" and v != {"name": "", "version": ""}}
    return metadata, _row_texts(values, len(df))


def _json_value(value) -> str:
    """What `_dumps` writes for one value: text through json's own string encoder (ensure_ascii=False)."""
    return encode_basestring(value) if isinstance(value, str) else json.dumps(value, allow_nan=False)


def _row_texts(columns: list[list], records: int) -> list[str]:
    """Each row's JSON array text, column by column: every distinct value of a column is encoded
    once (json.dumps as `_dumps` does it) and the rows are joined by Arrow, not a Python step per
    value."""
    if not columns:
        return ["[]"] * records
    texts = []
    for values in columns:
        codes, distinct = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        encoded = np.array([_json_value(v) for v in distinct] + ["null"], dtype=object)  # code -1 (None): null
        texts.append(pa.array(encoded[codes], type=pa.string()))
    joined = pc.binary_join_element_wise(*texts, ",")
    return pc.binary_join_element_wise("[", joined, "]", "").to_pylist()


def _column(item: Item, group: Group, series: pd.Series, numeric: bool,
            xpt: Path) -> tuple[dict, list, list[Problem]]:
    """Column metadata, the values as JSON values, and the problems of one variable."""
    kind = temporal_kind(parse_format(item.display_format)) if numeric and item.display_format else None
    target = None
    if not numeric:
        data_type = TEXT_TYPES.get(item.data_type, "string")
        values = series.to_numpy(dtype=object, na_value="").tolist()
        problems = []
    elif kind:
        data_type, target = kind, "integer"
        values, problems = _iso(series, kind, item, group, xpt)
    elif item.data_type == "integer":
        data_type = "integer"
        values, problems = _integers(series, item, group, xpt)
    else:
        data_type, target = "decimal", "decimal"
        values, problems = _decimals(series), []
    column = {"itemOID": item.oid, "name": item.name, "label": item.label, "dataType": data_type}
    if target:
        column["targetDataType"] = target
    if item.length:
        column["length"] = item.length
    if item.display_format:
        column["displayFormat"] = item.display_format
    if item.oid in group.key_sequence:
        column["keySequence"] = group.key_sequence[item.oid]
    return column, values, problems


def _first_rows(mask: np.ndarray, xpt: Path, what: str, message: str) -> list[Problem]:
    rows = np.flatnonzero(mask)[:5]
    return [Problem(str(xpt), message, row=int(r) + 1, column=what) for r in rows]


def _integers(series: pd.Series, item: Item, group: Group, xpt: Path) -> tuple[list, list[Problem]]:
    numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(numbers)
    fractional = ~missing & (numbers != np.round(numbers))
    values = np.where(missing, 0, numbers).astype(np.int64).astype(object)  # Python ints
    values[missing] = None
    return values.tolist(), _first_rows(fractional, xpt, item.name,
                                        f"{group.name}.{item.name} is integer in {DEFINE} but holds a fraction")


def _decimals(series: pd.Series) -> list:
    """The shortest positional decimal that reads back to the same double: Arrow's number to text
    cast (shortest round trip, "162" for 162.0, null for NaN), its rare exponent form ("1e-7")
    written out positionally."""
    numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    texts = pa.array(numbers, from_pandas=True).cast(pa.string())
    exponent = np.flatnonzero(pc.fill_null(pc.match_substring(texts, "e"), False).to_numpy(zero_copy_only=False))
    values = texts.to_pylist()
    for i in exponent:
        values[i] = np.format_float_positional(numbers[i], unique=True, trim="-")
    return values


def _iso(series: pd.Series, kind: str, item: Item, group: Group, xpt: Path) -> tuple[list, list[Problem]]:
    """SAS dates (days since 1960), datetimes or times (seconds) as ISO 8601 text; a fraction of a day
    or second is refused: the ISO value would drop it."""
    numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(numbers)
    fractional = ~missing & (numbers != np.round(numbers))
    origin = pd.Timestamp("1970-01-01") if kind == "time" else SAS_EPOCH
    stamps = origin + pd.to_timedelta(pd.Series(np.where(missing, 0, numbers)), unit=_UNIT[kind])
    values = np.array(stamps.dt.strftime(_ISO[kind]), dtype=object)
    values[missing] = None
    out_of_day = ~missing & ((numbers < 0) | (numbers >= 86400)) if kind == "time" else np.zeros_like(missing)
    problems = _first_rows(fractional, xpt, item.name, f"{group.name}.{item.name} ({item.display_format}) holds a "
                                                      f"fraction of a {'day' if kind == 'date' else 'second'}")
    problems += _first_rows(out_of_day, xpt, item.name,
                            f"{group.name}.{item.name} ({item.display_format}) holds a time outside 0-24 h")
    return values.tolist(), problems


def read_dataset_json(path: str | Path) -> pd.DataFrame:
    """A Dataset-JSON file (.json or .ndjson) as the XPT reader gives its dataset: numbers as floats,
    SAS dates, datetimes and times (targetDataType "integer") as SAS numbers, blanks as ""."""
    return read_dataset(path, as_text=True)[0]
