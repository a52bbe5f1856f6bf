"""The closed vocabulary of ADaM derivations, and the pipeline files that call them.

A derivation is a pure function `f(df, ctx, **params) -> DataFrame`: the dataset so far in, the
dataset with its new records or variables out. Its name says the shape of what it adds, as in
admiral: `derive_var_*` one variable, `derive_vars_*` several, `derive_param_*` new records.
Pipelines name derivations and give their parameters; nothing in a spec is executed as code.

    dataset: ADSL
    steps:
      - start_from: {domain: DM, keep: [STUDYID, USUBJID, AGE]}
      - derive_vars_dt: {source: RFXSTDTC, new: TRTSDT}
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from submit.errors import InputError, Problem
from submit.yaml_load import load_yaml

DERIVATIONS: dict[str, Callable] = {}


def derivation(fn: Callable) -> Callable:
    """Register `fn` under its own name; a second derivation of that name is a programming error."""
    if fn.__name__ in DERIVATIONS and DERIVATIONS[fn.__name__] is not fn:
        raise RuntimeError(f"two ADaM derivations are named {fn.__name__}: {DERIVATIONS[fn.__name__].__module__} "
                           f"and {fn.__module__}")
    DERIVATIONS[fn.__name__] = fn
    return fn


@dataclass(frozen=True)
class Step:
    name: str
    params: dict
    where: str  # file:line, for errors raised while the step runs


@dataclass(frozen=True)
class Pipeline:
    dataset: str
    steps: tuple[Step, ...]
    file: str


def _line_of(text: str, needle: str, start: int = 0) -> int:
    lines = text.splitlines()
    return next((i + 1 for i in range(start, len(lines)) if needle in lines[i]), start + 1)


def signature_problems(fn: Callable, params: dict, where: str) -> list[Problem]:
    """Unknown or missing parameters of a derivation, each named."""
    sig = inspect.signature(fn)
    accepted = [p for p in list(sig.parameters.values())[2:]]
    names = {p.name for p in accepted}
    problems = [Problem(where, f"{fn.__name__}: unknown parameter {k!r} (accepted: {', '.join(sorted(names))})")
                for k in params if k not in names]
    problems += [Problem(where, f"{fn.__name__}: parameter {p.name!r} is required")
                 for p in accepted if p.default is inspect.Parameter.empty and p.name not in params]
    return problems


def load_pipeline(path: Path) -> Pipeline:
    text = path.read_text(encoding="utf-8")
    doc = load_yaml(text) or {}
    problems: list[Problem] = []
    if not isinstance(doc.get("dataset"), str) or not isinstance(doc.get("steps"), list):
        raise InputError(f"ADaM pipeline {path}", [Problem(str(path), "expected keys 'dataset' and 'steps' (a list)")])
    steps, line = [], 0
    for raw in doc["steps"]:
        name = next(iter(raw)) if isinstance(raw, dict) and len(raw) == 1 else None
        line = _line_of(text, f"{name}:", line) if name else line + 1
        where = f"{path}:{line}"
        if name is None:
            problems.append(Problem(where, f"a step is one derivation with its parameters, got {raw!r}"))
            continue
        params = raw[name] or {}
        if name not in DERIVATIONS:
            problems.append(Problem(where, f"unknown derivation {name!r}"))
        elif not isinstance(params, dict):
            problems.append(Problem(where, f"{name}: parameters must be a mapping"))
        else:
            problems += signature_problems(DERIVATIONS[name], params, where)
        steps.append(Step(name, params if isinstance(params, dict) else {}, where))
    if problems:
        raise InputError(f"ADaM pipeline {path} has {len(problems)} problem(s)", problems)
    return Pipeline(doc["dataset"], tuple(steps), str(path))


def run_steps(df, ctx, steps, fn: str, arg: str):
    """`df` through `steps`, a list of {derivation: parameters} as in a pipeline (e.g. an SDTM
    domain extended with imputed dates before a merge, as admiral's `ex_ext`)."""
    if not isinstance(steps, list):
        raise bad_argument(fn, arg, f"must be a list of steps, got {steps!r}")
    for i, raw in enumerate(steps):
        name = next(iter(raw)) if isinstance(raw, dict) and len(raw) == 1 else None
        params = raw[name] or {} if name else None
        if name not in DERIVATIONS or not isinstance(params, dict):
            raise bad_argument(fn, f"{arg}[{i}]", f"is one known derivation with its parameters, got {raw!r}")
        problems = signature_problems(DERIVATIONS[name], params, f"{fn}.{arg}[{i}]")
        if problems:
            raise ArgumentError(f"{fn}: argument {arg}[{i}]", problems)
        df = DERIVATIONS[name](df, ctx, **params)
    return df


class ArgumentError(InputError):
    """A derivation refused one of its arguments (raised with the argument's name)."""


def bad_argument(fn: str, name: str, message: str) -> ArgumentError:
    return ArgumentError(f"{fn}: argument {name!r} {message}", [Problem(fn, message, key=name)])
