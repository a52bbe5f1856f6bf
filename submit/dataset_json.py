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
from contextlib import nullcontext
from dataclasses import dataclass
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
ROWS_PER_BLOCK = 50_000  # rows encoded and written at a time
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
            metadata, columns = dataset_document(define, group, xpt)
        except DataCheckError as exc:
            problems += exc.problems
            continue
        targets = [xpt.with_suffix(".json")]
        if metadata["records"] >= ndjson_min_records:
            targets.append(xpt.with_suffix(".ndjson"))
        _write_rows(metadata, columns, *targets)
        written += targets
    if problems:
        for path in written:  # no half-written set of files
            path.unlink()
        raise DataCheckError(f"{folder}: datasets that Dataset-JSON cannot carry as define.xml describes them",
                             problems)
    return written


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _write_rows(metadata: dict, columns: list[Encoded], json_path: Path, ndjson_path: Path | None = None) -> None:
    """The document (and its NDJSON) written ROWS_PER_BLOCK rows at a time: memory holds one block's
    text, never the dataset's."""
    head = _dumps({**metadata, "rows": []})  # "rows" comes last: its "[]}" is where the rows go
    records = metadata["records"]
    with json_path.open("wb") as out, (ndjson_path.open("wb") if ndjson_path else nullcontext()) as lines:
        out.write(head[:-2])
        if lines:
            lines.write(_dumps(metadata) + b"\n")
        for start in range(0, records, ROWS_PER_BLOCK):
            stop = min(start + ROWS_PER_BLOCK, records)
            row = _row_texts(columns, start, stop)
            text = _joined(row, "],")  # each row followed by ",": the last one's is dropped
            out.write(text[:-1] if stop == records else text)
            if lines:
                lines.write(_joined(row, "]\n"))
        out.write(b"]}\n")


def _row_texts(columns: list[Encoded], start: int, stop: int) -> pa.Array:
    """Rows start..stop-1 as their JSON array texts without the brackets ("1,\"A\",null")."""
    if not columns:
        return pa.array([""] * (stop - start), pa.string())
    return pc.binary_join_element_wise(*(c.texts.take(c.codes[start:stop]) for c in columns), ",")


def _joined(rows: pa.Array, close: str) -> memoryview:
    """"[" + row + close for every row, concatenated: the data buffer of the joined Arrow array."""
    texts = pc.binary_join_element_wise("[", rows, close, "")
    offsets = np.frombuffer(texts.buffers()[1], np.int32)
    first, last = offsets[texts.offset], offsets[texts.offset + len(texts)]
    return memoryview(texts.buffers()[2])[first:last]


@dataclass(frozen=True)
class Encoded:
    """One column as its JSON texts: the distinct values' texts and, per row, which one it is."""
    codes: np.ndarray  # int32, one per row
    texts: pa.StringArray


def dataset_document(define: Define, group: Group, xpt: Path) -> tuple[dict, list[Encoded]]:
    """The metadata (every attribute but rows, in the specification's order) and the columns of one
    dataset as JSON texts (what `_dumps` gives for each value)."""
    df, meta = read_dataset(xpt, as_text=True)  # SAS dates stay numbers; blanks are ""
    items = {define.items[oid].name: define.items[oid] for oid in group.items if oid in define.items}
    missing = [Problem(str(xpt), f"{group.name}.{name} has no ItemDef in {DEFINE}") for name in df.columns
               if name not in items]
    if missing:
        raise DataCheckError(f"{xpt.name}: variables define.xml does not describe", missing)
    records = len(df)
    columns, values, problems = [], [], []
    for name in list(df.columns):
        series = df.pop(name)  # freed once encoded
        column, encoded, problem = _column(items[name], group, series, meta.variables[name].type == "num", xpt)
        columns.append(column)
        values.append(encoded)
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
        "records": records,
        "name": group.name,
        "label": group.label,
        "columns": columns,
    }
    metadata = {k: v for k, v in metadata.items() if v != "" and v != {"name": "", "version": ""}}
    return metadata, values


def _column(item: Item, group: Group, series: pd.Series, numeric: bool,
            xpt: Path) -> tuple[dict, Encoded, list[Problem]]:
    """Column metadata, the values as JSON texts, and the problems of one variable."""
    kind = temporal_kind(parse_format(item.display_format)) if numeric and item.display_format else None
    target, problems = None, []
    if not numeric:
        data_type = TEXT_TYPES.get(item.data_type, "string")
        encoded = _strings(series)
    else:
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        codes, distinct = _factorized(numbers)
        if kind:
            data_type, target = kind, "integer"
            texts = _quoted(_iso(distinct, kind))
            problems = _iso_problems(numbers, kind, item, group, xpt)
        elif item.data_type == "integer":
            data_type = "integer"
            texts = _integers(distinct)
            fractional = ~np.isnan(numbers) & (numbers != np.round(numbers))
            problems = _first_rows(fractional, xpt, item.name,
                                   f"{group.name}.{item.name} is integer in {DEFINE} but holds a fraction")
        else:
            data_type, target = "decimal", "decimal"
            texts = _quoted(_decimals(distinct))
        encoded = Encoded(codes, texts)
    column = {"itemOID": item.oid, "name": item.name, "label": item.label, "dataType": data_type}
    if target:
        column["targetDataType"] = target
    if item.length:
        column["length"] = item.length
    if item.display_format:
        column["displayFormat"] = item.display_format
    if item.oid in group.key_sequence:
        column["keySequence"] = group.key_sequence[item.oid]
    return column, encoded, problems


def _first_rows(mask: np.ndarray, xpt: Path, what: str, message: str) -> list[Problem]:
    rows = np.flatnonzero(mask)[:5]
    return [Problem(str(xpt), message, row=int(r) + 1, column=what) for r in rows]


def _factorized(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row the position of its value among the distinct ones, and those values: told apart by
    their bits, so that -0.0 and 0.0 (written "-0" and "0") stay apart."""
    codes, distinct = pd.factorize(numbers.view(np.int64))
    return codes.astype(np.int32), np.asarray(distinct, np.int64).view(np.float64)


def _strings(series: pd.Series) -> Encoded:
    """Text as JSON strings (json's own encoder, ensure_ascii=False), each distinct value encoded
    once; blanks are ""."""
    values = pc.fill_null(pa.chunked_array([pa.array(series, pa.string(), from_pandas=True)]), "")
    dictionary = pc.dictionary_encode(values).combine_chunks()
    texts = [encode_basestring(v) for v in dictionary.dictionary.to_pylist()]
    return Encoded(dictionary.indices.to_numpy(zero_copy_only=False).astype(np.int32), pa.array(texts, pa.string()))


def _quoted(values: pa.Array) -> pa.Array:
    """Text values without characters JSON escapes (numbers, ISO 8601) as JSON strings; null as null."""
    return pc.fill_null(pc.binary_join_element_wise('"', values, '"', ""), "null")


def _integers(numbers: np.ndarray) -> pa.Array:
    """Whole numbers as JSON integers (json.dumps of a Python int); NaN as null."""
    missing = np.isnan(numbers)
    values = pa.array(np.where(missing, 0, numbers).astype(np.int64), mask=missing)
    return pc.fill_null(values.cast(pa.string()), "null")


def _decimals(numbers: np.ndarray) -> pa.Array:
    """The shortest positional decimal that reads back to the same double: Arrow's number to text
    cast (shortest round trip, "162" for 162.0, null for NaN), its rare exponent form ("1e-7")
    written out positionally."""
    texts = pa.array(numbers, from_pandas=True).cast(pa.string())
    exponent = np.flatnonzero(pc.fill_null(pc.match_substring(texts, "e"), False).to_numpy(zero_copy_only=False))
    if not len(exponent):
        return texts
    values = texts.to_pylist()
    for i in exponent:
        values[i] = np.format_float_positional(numbers[i], unique=True, trim="-")
    return pa.array(values, pa.string())


def _iso(numbers: np.ndarray, kind: str) -> pa.Array:
    """SAS dates (days since 1960), datetimes or times (seconds) as ISO 8601 text; null for missing."""
    missing = np.isnan(numbers)
    origin = pd.Timestamp("1970-01-01") if kind == "time" else SAS_EPOCH
    stamps = origin + pd.to_timedelta(pd.Series(np.where(missing, 0, numbers)), unit=_UNIT[kind])
    return pa.array(np.array(stamps.dt.strftime(_ISO[kind]), dtype=object), pa.string(), mask=missing)


def _iso_problems(numbers: np.ndarray, kind: str, item: Item, group: Group, xpt: Path) -> list[Problem]:
    """A fraction of a day or second is refused (the ISO value would drop it), and a time outside the day."""
    missing = np.isnan(numbers)
    fractional = ~missing & (numbers != np.round(numbers))
    out_of_day = ~missing & ((numbers < 0) | (numbers >= 86400)) if kind == "time" else np.zeros_like(missing)
    problems = _first_rows(fractional, xpt, item.name, f"{group.name}.{item.name} ({item.display_format}) holds a "
                                                      f"fraction of a {'day' if kind == 'date' else 'second'}")
    problems += _first_rows(out_of_day, xpt, item.name,
                            f"{group.name}.{item.name} ({item.display_format}) holds a time outside 0-24 h")
    return problems


def read_dataset_json(path: str | Path) -> pd.DataFrame:
    """A Dataset-JSON file (.json or .ndjson) as the XPT reader gives its dataset: numbers as floats,
    SAS dates, datetimes and times (targetDataType "integer") as SAS numbers, blanks as ""."""
    return read_dataset(path, as_text=True)[0]
