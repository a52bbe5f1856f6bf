"""define.xml against the data: schema validity, datasets, variables and their attributes,
codelists and value-level metadata. Codelist and value-level checks use the part's metadata
(define.xml, else the same study's spec); the attribute checks need define.xml itself."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.qc.validate.checks import Context, Skipped, check, frame, issue, rows
from submit.qc.validate.iso8601 import valid_dtc
from submit.qc.validate.metadata import NUMERIC_TYPES, Condition, ValueLevelDef
from submit.qc.validate.package import Dataset

INTEGER = r"^[-+]?[0-9]+$"
FLOAT = r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$"
ISO_TYPES = ("date", "datetime", "time", "partialDate", "partialTime", "partialDatetime", "incompleteDatetime")


@check("define_schema")
def define_schema(ctx: Context):
    part = ctx.part
    if part.define_path is None:
        raise Skipped("no define.xml")
    if part.define_error:
        return frame([issue("define.xml", detail=part.define_error)])
    try:
        from submit.define.schema import schema_errors  # noqa: PLC0415 (the define stage is optional here)
    except ImportError as exc:
        raise Skipped(f"the Define-XML schema validator is not available ({exc})") from exc
    return frame([issue("define.xml", detail=str(e)) for e in schema_errors(part.define_path)])


@check("define_dataset_not_defined")
def dataset_not_defined(ctx: Context):
    define = ctx.define()
    return frame([issue(name, detail=f"{ds.path.name} has no ItemGroupDef in define.xml")
                  for name, ds in ctx.part.datasets.items() if name not in define.datasets])


@check("define_dataset_no_file")
def dataset_no_file(ctx: Context):
    define = ctx.define()
    return frame([issue(name, detail=f"no {name.lower()}.xpt in {ctx.part.label}")
                  for name in define.datasets if name not in ctx.part.datasets])


def _pairs(ctx: Context):
    """(dataset, its define.xml description) for the datasets both have."""
    define = ctx.define()
    return [(ds, define.datasets[name]) for name, ds in ctx.part.datasets.items() if name in define.datasets]


@check("define_variable_not_defined")
def variable_not_defined(ctx: Context):
    return frame([issue(ds.name, name, detail="not an ItemRef of the dataset in define.xml")
                  for ds, d in _pairs(ctx) for name in ds.meta.variables if d.variable(name) is None])


@check("define_variable_no_data")
def variable_no_data(ctx: Context):
    return frame([issue(ds.name, v.name, detail="in define.xml, not in the dataset")
                  for ds, d in _pairs(ctx) for v in d.variables if v.name not in ds.meta.variables])


@check("define_dataset_label")
def dataset_label(ctx: Context):
    return frame([issue(ds.name, value=ds.meta.label, detail=f"define.xml: {d.label!r}")
                  for ds, d in _pairs(ctx) if ds.meta.label.rstrip() != d.label.rstrip()])


def _both(ctx: Context):
    for ds, d in _pairs(ctx):
        for name, meta in ds.meta.variables.items():
            v = d.variable(name)
            if v is not None:
                yield ds, meta, v


@check("define_variable_label")
def variable_label(ctx: Context):
    return frame([issue(ds.name, meta.name, value=meta.label, detail=f"define.xml: {v.label!r}")
                  for ds, meta, v in _both(ctx) if meta.label.rstrip() != v.label.rstrip()])


@check("define_variable_type")
def variable_type(ctx: Context):
    return frame([issue(ds.name, meta.name, value=meta.type, detail=f"define.xml DataType {v.data_type}")
                  for ds, meta, v in _both(ctx) if (meta.type == "num") != (v.data_type in NUMERIC_TYPES)])


@check("define_variable_length")
def variable_length(ctx: Context):
    return frame([issue(ds.name, meta.name, value=meta.length, detail=f"define.xml Length {v.length}")
                  for ds, meta, v in _both(ctx)
                  if meta.type == "char" and v.is_char and v.length is not None and meta.length != v.length])


# ------------------------------------------------------------------------------ codelists
def _codelist_kind(codelist) -> str:
    if not codelist.nci_code:
        return "sponsor"
    return "extensible" if codelist.extensible else "non_extensible"  # unknown extensibility: the strict reading


@check("codelist_value")
def codelist_value(ctx: Context):
    """Values outside the variable's codelist; `params.kind` picks which codelists this rule covers."""
    meta = ctx.metadata()
    kind = ctx.params["kind"]
    found = []
    for name, ds in ctx.part.datasets.items():
        d = meta.datasets.get(name)
        if d is None:
            continue
        for v in d.variables:
            codelist = meta.codelists.get(v.codelist) if v.codelist else None
            if (codelist is None or codelist.dictionary or v.name not in ds.data
                    or _codelist_kind(codelist) != kind):
                continue
            text = ds.text(v.name)
            bad = (text != "").to_numpy() & ~ds.isin(v.name, codelist.values)
            found.append(rows(ds, bad, v.name, f"not in codelist {codelist.id}" +
                                                 (f" ({codelist.nci_code})" if codelist.nci_code else "")))
    return frame(found)


# -------------------------------------------------------------------------- value level
def where_mask(ds: Dataset, where: tuple[Condition, ...]) -> np.ndarray | None:
    """Records where every condition holds; None when a condition's variable is not in the data.
    Computed once per dataset and clause: four value-level rules select the same records."""
    key = ("where", where)
    if key not in ds._cache:
        ds._cache[key] = _where_mask(ds, where)
    return ds._cache[key]


def _where_mask(ds: Dataset, where: tuple[Condition, ...]) -> np.ndarray | None:
    mask = np.ones(ds.records, dtype=bool)
    for c in where:
        if c.variable not in ds.data:
            return None
        if ds.is_char(c.variable) or c.comparator in ("EQ", "NE", "IN", "NOTIN"):
            left, values = ds.text(c.variable), pd.Series(c.values, dtype=str)
            if not ds.is_char(c.variable):  # "1.0" in define is the number 1, as the data's text shows it
                numbers = pd.to_numeric(values, errors="coerce")
                values = values.where(numbers.isna(), numbers.map(lambda x: f"{x:g}" if pd.notna(x) else ""))
        else:
            left, values = ds.data[c.variable], pd.to_numeric(pd.Series(c.values), errors="coerce")
        first = values.iloc[0] if len(values) else None
        hold = {"EQ": lambda: left == first, "NE": lambda: left != first,
                "IN": lambda: left.isin(values), "NOTIN": lambda: ~left.isin(values),
                "LT": lambda: left < first, "LE": lambda: left <= first,
                "GT": lambda: left > first, "GE": lambda: left >= first}.get(c.comparator)
        if hold is None:
            return None
        mask &= hold().to_numpy(dtype=bool)
    return mask


def _slices(ctx: Context):
    """(dataset, value-level definition, its records) for every value-level entry that applies."""
    meta = ctx.metadata()
    if not meta.value_level:
        raise Skipped("no value-level metadata")
    for vl in meta.value_level:
        ds = ctx.part.datasets.get(vl.dataset)
        if ds is None or vl.variable not in ds.data:
            continue
        mask = where_mask(ds, vl.where)
        if mask is not None:
            yield ds, vl, mask


def _where_text(vl: ValueLevelDef) -> str:
    return " and ".join(f"{c.variable} {c.comparator} {'|'.join(c.values)}" for c in vl.where) or vl.label


@check("vlm_codelist")
def vlm_codelist(ctx: Context):
    meta, found = ctx.metadata(), []
    for ds, vl, mask in _slices(ctx):
        codelist = meta.codelists.get(vl.codelist) if vl.codelist else None
        if codelist is None or codelist.dictionary:
            continue
        text = ds.text(vl.variable)
        found.append(rows(ds, mask & (text != "").to_numpy() & ~ds.isin(vl.variable, codelist.values), vl.variable,
                          f"not in codelist {codelist.id} where {_where_text(vl)}"))
    return frame(found)


@check("vlm_mandatory")
def vlm_mandatory(ctx: Context):
    return frame([rows(ds, mask & ds.null(vl.variable), vl.variable, f"null where {_where_text(vl)}")
                  for ds, vl, mask in _slices(ctx) if vl.mandatory])


def conforms(ds: Dataset, variable: str, data_type: str) -> np.ndarray:
    """Per record: the value fits the Define-XML data type (blank always fits)."""
    key = ("conforms", variable, data_type)
    if key not in ds._cache:
        ds._cache[key] = _conforms(ds, variable, data_type)
    return ds._cache[key]


def _conforms(ds: Dataset, variable: str, data_type: str) -> np.ndarray:
    if not ds.is_char(variable):
        values = ds.data[variable].to_numpy(dtype="float64", na_value=np.nan)
        if data_type == "integer":
            return np.isnan(values) | (values == np.round(values))
        return np.ones(len(values), dtype=bool)
    text = ds.text(variable).str.strip()
    if data_type == "integer":
        fits = text.str.match(INTEGER)
    elif data_type == "float":
        fits = text.str.match(FLOAT)
    elif data_type in ISO_TYPES:
        fits = valid_dtc(text)
    else:
        return np.ones(len(text), dtype=bool)
    return ((text == "") | fits).to_numpy(dtype=bool)


@check("vlm_data_type")
def vlm_data_type(ctx: Context):
    return frame([rows(ds, mask & ~conforms(ds, vl.variable, vl.data_type), vl.variable,
                       f"not {vl.data_type} where {_where_text(vl)}")
                  for ds, vl, mask in _slices(ctx)])


@check("vlm_length")
def vlm_length(ctx: Context):
    found = []
    for ds, vl, mask in _slices(ctx):
        if vl.length is None or not ds.is_char(vl.variable):
            continue
        found.append(rows(ds, mask & (ds.nbytes(vl.variable) > vl.length), vl.variable,
                          f"longer than {vl.length} where {_where_text(vl)}"))
    return frame(found)
