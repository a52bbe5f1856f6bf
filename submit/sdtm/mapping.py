"""Mapping specs (`specs/sdtm/mapping/<domain>.yaml`): which raw sources feed a domain and which
algorithm, with which parameters, computes each variable. Loaded and checked against the
algorithm registry and the metadata spec; every problem at once, naming file and line.

    domain: DM
    sources:
      - raw: dm                        # raw dataset
        where: {column: BMDONE, equals: Y}   # optional row filter; rows left out are reported
        variables:
          USUBJID: {usubjid: {}}
          SEX: {assign_ct: {column: SEX, values: {Male: M, Female: F}}}
    then:                              # domain algorithms, in order, after the sources are stacked
      - {seq: {target: DMSEQ, order: [DMDTC]}}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from submit.errors import InputError, Problem
from submit.sdtm.algorithms import DOMAIN_ALGORITHMS, VARIABLE_ALGORITHMS, check_params
from submit.spec.model import Spec
from submit.yaml_load import load_yaml


@dataclass(frozen=True)
class Step:
    algorithm: str
    params: dict


@dataclass(frozen=True)
class Source:
    raw: str
    variables: dict[str, Step]
    where: dict | None = None


@dataclass(frozen=True)
class DomainMapping:
    domain: str
    sources: tuple[Source, ...]
    then: tuple[Step, ...]
    file: str


def _line(text: str, needle: str) -> int | None:
    return next((i for i, line in enumerate(text.splitlines(), 1) if needle in line), None)


def _step(raw, registry: dict, where: str, problems: list[Problem]) -> Step | None:
    if not (isinstance(raw, dict) and len(raw) == 1):
        problems.append(Problem(where, f"expected one algorithm with its parameters, got {raw!r}"))
        return None
    (name, params), = raw.items()
    params = params or {}
    if name not in registry:
        problems.append(Problem(where, f"unknown algorithm {name!r} (known: {', '.join(sorted(registry))})"))
        return None
    if not isinstance(params, dict):
        problems.append(Problem(where, f"algorithm {name}: parameters must be a mapping"))
        return None
    problems.extend(check_params(name, registry[name], params, where))
    return Step(name, params)


def load_mapping(path: Path, spec: Spec, raw_columns: dict[str, tuple[str, ...]]) -> DomainMapping:
    text = path.read_text(encoding="utf-8")
    data = load_yaml(text) or {}
    problems: list[Problem] = []
    file = str(path)
    domain = data.get("domain")
    known = {d.name for d in spec.datasets}
    if domain not in known:
        problems.append(Problem(file, f"domain {domain!r} is not a dataset of the spec", key="domain"))
    spec_vars = {v.name for v in spec.variables if v.dataset == domain}
    sources = []
    for i, src in enumerate(data.get("sources") or []):
        raw = src.get("raw")
        if raw not in raw_columns:
            problems.append(Problem(file, f"unknown raw dataset {raw!r}", key=f"sources.{i}.raw"))
        steps = {}
        for var, step in (src.get("variables") or {}).items():
            line = _line(text, f"{var}:")
            where = f"{file}:{line}" if line else file
            if var not in spec_vars:
                problems.append(Problem(where, f"{var} is not a variable of {domain} in the spec"))
            parsed = _step(step, VARIABLE_ALGORITHMS, where, problems)
            if parsed:
                steps[var] = parsed
        sources.append(Source(raw=raw, variables=steps, where=src.get("where")))
    then = []
    for i, step in enumerate(data.get("then") or []):
        parsed = _step(step, DOMAIN_ALGORITHMS, f"{file} then[{i}]", problems)
        if parsed:
            then.append(parsed)
    if problems:
        raise InputError(f"Mapping spec {path} is invalid", problems)
    return DomainMapping(domain=domain, sources=tuple(sources), then=tuple(then), file=file)
