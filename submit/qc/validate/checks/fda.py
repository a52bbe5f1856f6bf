"""The FDA technical rejection criteria for study data (eCTD validations 1734: TS with the study
start date; 1736: DM, ADSL and define.xml present) and the Trial Summary parameters the Study Data
Technical Conformance Guide asks for."""

from __future__ import annotations

import re

from submit.qc.validate.checks import Context, Skipped, check, frame, issue

FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _part(ctx: Context, standard: str):
    part = {"SDTM": ctx.package.sdtm, "ADaM": ctx.package.adam}[standard]
    if part is None and not ctx.package.is_root:
        raise Skipped(f"one dataset folder validated, not a package: no {standard} expected")
    if part is None and standard not in ctx.package.standards:
        raise Skipped(f"the study has no {standard} specs: no {standard} expected")
    return part


@check("trc_dataset_present")
def dataset_present(ctx: Context):
    standard, dataset = ctx.params["standard"], ctx.params["dataset"]
    part = _part(ctx, standard)
    if part is None:
        return frame([issue(dataset, detail=f"the package has no {standard} folder")])
    if dataset in part.datasets:
        return frame([])
    return frame([issue(dataset, detail=f"no {dataset.lower()}.xpt in {part.label}")])


@check("trc_define_present")
def define_present(ctx: Context):
    return frame([issue("define.xml", detail=f"no define.xml in {part.label}")
                  for part in ctx.package.parts() if part.define_path is None])


def _ts(ctx: Context):
    ts = ctx.part.get("TS")
    if ts is None or "TSPARMCD" not in ts.data:
        raise Skipped("no TS dataset with TSPARMCD")
    return ts


@check("ts_study_start")
def study_start(ctx: Context):
    ts = _ts(ctx)
    code = ts.text("TSPARMCD")
    value = ts.text("TSVAL") if "TSVAL" in ts.data else code.where(False, "")
    start = value[code == "SSTDTC"]
    if start.empty:
        return frame([issue("TS", "TSPARMCD", detail="no SSTDTC (Study Start Date) record")])
    return frame([issue("TS", "TSVAL", value=v, row=int(i) + 1, detail="SSTDTC is not a complete ISO 8601 date")
                  for i, v in start.items() if not FULL_DATE.match(v)])


@check("ts_parameters")
def parameters(ctx: Context):
    """`params.parameters`: TSPARMCD codes, or {code, when: {TSPARMCD: TSVAL}} for conditional ones.
    A parameter counts as present with a value or a null flavor (TSVALNF)."""
    ts = _ts(ctx)
    code = ts.text("TSPARMCD")
    value = ts.text("TSVAL") if "TSVAL" in ts.data else code.where(False, "")
    present, pairs = set(code), set(zip(code, value))
    found = []
    for entry in ctx.params["parameters"]:
        name, when = (entry, {}) if isinstance(entry, str) else (entry["code"], entry.get("when", {}))
        if all((k, v) in pairs for k, v in when.items()) and name not in present:
            condition = " and ".join(f"{k} = {v}" for k, v in when.items())
            detail = f"no {name} record" + (f" ({condition})" if condition else "")
            found.append(issue("TS", "TSPARMCD", value=name, detail=detail))
    return frame(found)
