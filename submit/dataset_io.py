"""Read a dataset in any format QC meets (XPT, SAS7BDAT, CSV, Dataset-JSON, Parquet) with its
SAS-style attributes, so that every tool compares or checks the same representation.

Text encoding: a declared one, else detected. XPT and CSV files carry no encoding, and sponsors'
files are often Windows-1252 ("é", the typographic apostrophe "’"), so UTF-8 is tried first and
then cp1252; the encoding used is in `DatasetMeta.encoding`. A file that decodes with neither (or
not with the declared encoding) is an InputError naming it. SAS7BDAT files declare their own
encoding, which is used first; Parquet is UTF-8 by definition, Dataset-JSON by its standard.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from submit.errors import InputError, Problem
from submit.xpt.reader import Unsupported, XptFile

FORMATS = {".xpt": "xpt", ".sas7bdat": "sas7bdat", ".csv": "csv", ".json": "dataset-json",
           ".ndjson": "dataset-json", ".parquet": "parquet"}
DETECTED_ENCODINGS = ("utf-8", "cp1252")  # tried in this order when none is declared


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
    encoding: str = ""  # the text encoding the file was read with ("" when the format fixes it)


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


def _undecodable(path: Path, tried: tuple[str, ...], declared: bool) -> InputError:
    hint = ("the file is not in the declared encoding" if declared else
            "give its encoding (e.g. --encoding latin-1)")
    return InputError(f"cannot decode the text of {path.name}", [Problem(
        str(path), f"not readable as {' or '.join(tried)}: {hint}")])


def _decoded(path: Path, read, encoding: str | None):
    """`read(encoding)` with the declared encoding, else with each of DETECTED_ENCODINGS until one
    decodes; returns (result, encoding used). The first detection attempt is `read(None)`, the
    reader's own default (UTF-8, or for SAS7BDAT the encoding the file declares)."""
    import pyreadstat  # noqa: PLC0415 (XPT v5 of UTF-8 text, what a build reads, needs no pyreadstat)

    tried = (encoding,) if encoding else DETECTED_ENCODINGS
    for i, candidate in enumerate(tried):
        try:
            return read(None if i == 0 and not encoding else candidate), candidate
        except (UnicodeDecodeError, pyreadstat.ReadstatError) as exc:
            if isinstance(exc, pyreadstat.ReadstatError) and "encoding" not in str(exc):
                raise  # not a decoding problem
    raise _undecodable(path, tried, bool(encoding))


def _fast_xpt(path: Path) -> tuple[pd.DataFrame, DatasetMeta] | None:
    """An XPT v5 file of UTF-8 text read by submit.xpt.reader (the values pyreadstat gives, several
    times faster); None when that reader does not read it."""
    try:
        xpt = XptFile(path)
        df = xpt.frame()
    except Unsupported:
        return None
    variables = {c.name: VariableMeta(name=c.name, type=c.type, length=c.length, label=c.label,
                                      format=sas_format(c.format)) for c in xpt.columns}
    return df, DatasetMeta(name=xpt.name.strip() or path.stem, label=xpt.label, variables=variables,
                           source=str(path), format="xpt", encoding="utf-8")


def _sas(path: Path, fmt: str, as_text: bool, encoding: str | None) -> tuple[pd.DataFrame, DatasetMeta]:
    if fmt == "xpt" and as_text and encoding is None:
        fast = _fast_xpt(path)
        if fast is not None:
            return fast
    import pyreadstat  # noqa: PLC0415

    reader = pyreadstat.read_xport if fmt == "xpt" else pyreadstat.read_sas7bdat
    # Dates stay as numbers here when as_text is False (SAS days since 1960) unless formatted;
    # pyreadstat converts date-formatted numerics to datetime objects.
    (df, meta), used = _decoded(path, lambda enc: reader(str(path), disable_datetime_conversion=as_text,
                                                         encoding=enc), encoding)
    if fmt == "sas7bdat" and used == "utf-8" and not encoding:
        used = meta.file_encoding or used  # what the file declares and pyreadstat applied
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
                           source=str(path), format=fmt, encoding=used)


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


def _dataset_json_document(path: Path, encoding: str) -> tuple[list[dict], list[list], str | None, str]:
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError:
        raise _undecodable(path, (encoding,), True) from None
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


def _dataset_json(path: Path, as_text: bool, encoding: str | None) -> tuple[pd.DataFrame, DatasetMeta]:
    encoding = encoding or "utf-8"  # Dataset-JSON is UTF-8 by its standard
    columns, rows, name, label = _dataset_json_document(path, encoding)
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
                           source=str(path), format="dataset-json", encoding=encoding)


def _untyped(df: pd.DataFrame, path: Path, fmt: str, encoding: str = "") -> tuple[pd.DataFrame, DatasetMeta]:
    """Attributes of a format that stores none but the type."""
    variables = {
        str(c): VariableMeta(name=str(c), type="num" if pd.api.types.is_numeric_dtype(df[c]) else "char")
        for c in df.columns
    }
    return df, DatasetMeta(name=path.stem, variables=variables, source=str(path), format=fmt, encoding=encoding)


def _parquet(path: Path, as_text: bool, encoding: str | None) -> tuple[pd.DataFrame, DatasetMeta]:
    """Parquet text is UTF-8 by definition. SAS attributes, where a writer kept them, are the
    field metadata `label`, `format` and `length` (bytes) and the schema metadata `label`."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    df, meta = _untyped(pd.read_parquet(path), path, "parquet")
    schema = pq.read_schema(path)

    def text(metadata, key: str) -> str:
        return (metadata or {}).get(key.encode(), b"").decode("utf-8")

    variables = {}
    for name, variable in meta.variables.items():
        field_meta = schema.field(name).metadata if name in schema.names else None
        length = text(field_meta, "length")
        variables[name] = replace(variable, label=text(field_meta, "label"), format=text(field_meta, "format"),
                                  length=int(length) if length.isdigit() else None)
    return df, replace(meta, label=text(schema.metadata, "label"), variables=variables)


def _csv(path: Path, as_text: bool, encoding: str | None) -> tuple[pd.DataFrame, DatasetMeta]:
    options = {"dtype": str, "keep_default_na": False} if as_text else {}
    df, used = _decoded(path, lambda enc: pd.read_csv(path, encoding=enc or "utf-8", **options), encoding)
    return _untyped(df, path, "csv", used)


READERS = {"xpt": lambda path, as_text, encoding: _sas(path, "xpt", as_text, encoding),
           "sas7bdat": lambda path, as_text, encoding: _sas(path, "sas7bdat", as_text, encoding),
           "dataset-json": _dataset_json, "parquet": _parquet, "csv": _csv}


def read_dataset(path: str | Path, as_text: bool = False,
                 encoding: str | None = None) -> tuple[pd.DataFrame, DatasetMeta]:
    """Return the data and its attributes. `as_text` reads CSV cells as strings, untouched
    (empty cells become ""), and leaves SAS dates as numbers (Dataset-JSON dates whose targetDataType
    is "integer" become those numbers too), for callers that check types themselves or compare with SAS.
    `encoding` declares the text encoding (a Python/iconv name such as "cp1252" or "latin-1");
    None detects it (see the module doc)."""
    path = Path(path)
    fmt = dataset_format(path)
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name  # one spelling for Python and iconv: "latin-1" -> "iso8859-1"
        except LookupError:
            raise InputError(f"unknown text encoding {encoding!r}", [Problem(
                str(path), f"{encoding!r} is not an encoding name (e.g. utf-8, cp1252, latin-1)")]) from None
    return READERS[fmt](path, as_text, encoding)


class DatasetFolder(Mapping):
    """The datasets `names` of a folder of XPTs as a read-only mapping, each read from its file the
    first time it is asked for (SAS dates left as numbers): what the build's last stages read once
    its own frames are freed, so that their memory is not held through validation (issue 19)."""

    def __init__(self, folder: Path, names: Iterable[str]):
        self.folder, self.names = Path(folder), tuple(names)
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(name)
        if name not in self._read:
            self._read[name] = read_dataset(self.folder / f"{name.lower()}.xpt", as_text=True)[0]
        return self._read[name]

    def __contains__(self, name) -> bool:  # Mapping's would read the file
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)
