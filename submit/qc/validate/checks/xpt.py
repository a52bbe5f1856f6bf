"""SAS XPT v5 and FDA file-level constraints, read from the files as they are (the writer's own
pre-write checks are `submit.xpt.check`; these look at what was actually delivered)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from submit.qc.validate.checks import Context, check, frame, issue, rows
from submit.xpt.model import FDA_MAX_BYTES

NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}")
PRINTABLE = re.compile(r"[\x20-\x7e]*")


def _datasets(ctx: Context):
    return ctx.part.datasets.values()


@check("xpt_readable_v5")
def readable_v5(ctx: Context):
    found = [issue(path.stem.upper(), detail=f"{path.name}: {why}") for path, why in ctx.part.unreadable.items()]
    found += [issue(ds.name, detail=f"{ds.path.name}: {'XPT version 8' if ds.version == 8 else 'unknown header'}, "
                                    "not SAS transport version 5")
              for ds in _datasets(ctx) if ds.version != 5]
    return frame(found)


@check("xpt_file_name")
def file_name(ctx: Context):
    return frame([issue(ds.name, detail=f"file {ds.path.name}, expected {ds.name.lower()}.xpt", value=ds.path.name)
                  for ds in _datasets(ctx) if ds.path.name != f"{ds.name.lower()}.xpt"])


@check("xpt_dataset_name")
def dataset_name(ctx: Context):
    return frame([issue(ds.name, value=ds.name, detail="1-8 characters A-Z, 0-9, _ starting with a letter")
                  for ds in _datasets(ctx) if not NAME.fullmatch(ds.name)])


@check("xpt_variable_name")
def variable_name(ctx: Context):
    return frame([issue(ds.name, name, value=name, detail="1-8 characters A-Z, 0-9, _ starting with a letter")
                  for ds in _datasets(ctx) for name in ds.meta.variables if not NAME.fullmatch(name)])


@check("xpt_variable_label")
def variable_label(ctx: Context):
    limit = int(ctx.params.get("max", 40))
    return frame([issue(ds.name, v.name, value=v.label, detail=f"{len(v.label)} characters")
                  for ds in _datasets(ctx) for v in ds.meta.variables.values() if len(v.label) > limit])


@check("xpt_dataset_label")
def dataset_label(ctx: Context):
    limit = int(ctx.params.get("max", 40))
    return frame([issue(ds.name, value=ds.meta.label, detail=f"{len(ds.meta.label)} characters")
                  for ds in _datasets(ctx) if len(ds.meta.label) > limit])


def _printable(values: pa.Array | pa.ChunkedArray) -> bool:
    """Every byte of every value is printable ASCII (0x20-0x7E): one scan of Arrow's data buffers,
    so that only a column with some other byte is looked at value by value."""
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        if chunk.null_count:
            return False
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets, width, count=len(chunk) + 1, offset=chunk.offset * np.dtype(width).itemsize)
        if data is None or offsets[-1] == offsets[0]:
            continue
        text = np.frombuffer(data, np.uint8, count=int(offsets[-1] - offsets[0]), offset=int(offsets[0]))
        if ((text < 0x20) | (text > 0x7E)).any():
            return False
    return True


@check("xpt_ascii")
def ascii_only(ctx: Context):
    """Labels and character values: printable ASCII only (0x20-0x7E)."""
    found = []
    for ds in _datasets(ctx):
        for label, variable in [(ds.meta.label, None), *((v.label, v.name) for v in ds.meta.variables.values())]:
            if not PRINTABLE.fullmatch(label):
                found.append(frame([issue(ds.name, variable, value=label, detail="label is not printable ASCII")]))
        for name in ds.meta.variables:
            if not ds.is_char(name) or _printable(pa.array(ds.text(name))):
                continue
            encoded = pc.dictionary_encode(pa.array(ds.text(name)))  # Arrow-backed: no copy
            distinct = encoded.dictionary
            bad = pc.or_(pc.invert(pc.string_is_ascii(distinct)),
                         pc.match_substring_regex(distinct, r"[\x00-\x1f\x7f]")).to_numpy(zero_copy_only=False)
            if bad.any():
                mask = bad[encoded.indices.to_numpy(zero_copy_only=False)]
                found.append(rows(ds, mask, name, "non-ASCII or control character"))
    return frame(found)


@check("xpt_char_length")
def char_length(ctx: Context):
    limit = int(ctx.params.get("max", 200))
    return frame([issue(ds.name, v.name, value=v.length, detail=f"length {v.length} bytes")
                  for ds in _datasets(ctx) for v in ds.meta.variables.values()
                  if v.type == "char" and (v.length or 0) > limit])


@check("xpt_excess_length")
def excess_length(ctx: Context):
    """A character variable's length should be its longest value (FDA: no padding)."""
    found = []
    for ds in _datasets(ctx):
        for v in ds.meta.variables.values():
            if v.type != "char" or v.length is None:
                continue
            values = pa.array(ds.text(v.name))
            longest = max(1, int(pc.max(pc.binary_length(values)).as_py() or 0)) if len(values) else 1
            if v.length > longest:
                found.append(issue(ds.name, v.name, value=v.length,
                                   detail=f"length {v.length}, longest value {longest}"))
    return frame(found)


@check("xpt_file_size")
def file_size(ctx: Context):
    limit = int(ctx.params.get("max_bytes", FDA_MAX_BYTES))
    return frame([issue(ds.name, value=ds.path.stat().st_size, detail=f"{ds.path.stat().st_size} bytes")
                  for ds in _datasets(ctx) if ds.path.stat().st_size > limit])


@check("xpt_no_records")
def no_records(ctx: Context):
    return frame([issue(ds.name, detail="0 records") for ds in _datasets(ctx) if ds.records == 0])

