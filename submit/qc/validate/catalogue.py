"""The rule catalogue (`rules.yaml` beside this module): conformance rules as data.

Each rule has an id of our own (SUB-<area>-<nnn>), the message shown for each issue, a severity,
the standard and clause it enforces, the matching Pinnacle 21 rule id(s), CDISC conformance rule
id(s) (CGnnnn for SDTM, ADaM-nnn for ADaM), FDA Validator/Business Rule id(s) (FBnnnn) and CDISC CORE
rule id(s) (CORE-nnnnnn) where one was verified to match, the
name of the check function that finds its issues (`checks/`), the part of the package it applies
to (sdtm, adam or package) and the check's parameters. Adding a rule is a catalogue entry, plus a
check function when no existing one fits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from submit.errors import InputError, Problem
from submit.yaml_load import load_yaml

RULES_FILE = Path(__file__).with_name("rules.yaml")
SEVERITIES = ("Error", "Warning", "Notice")
SCOPES = ("sdtm", "adam", "package")
RULE_ID = re.compile(r"SUB-[A-Z]+-[0-9]{3}")
FIELDS = {"id", "message", "description", "severity", "standard", "p21", "cdisc", "fda", "core", "check", "scope",
          "params"}
REQUIRED = ("id", "message", "severity", "standard", "check", "scope")


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    severity: str  # Error / Warning / Notice
    standard: str  # what it enforces, e.g. "SDTMIG 3.4 core designations", "FDA TCG 4.1.4.5"
    check: str  # name of the registered check function
    scope: str  # sdtm / adam / package
    description: str = ""
    p21: str = ""  # Pinnacle 21 rule id(s), comma-separated, only where verified
    cdisc: str = ""  # CDISC conformance rule id(s) (CORE implements these), only where verified
    fda: str = ""  # FDA Validator / Business Rule id(s) (FBnnnn), only where verified
    core: str = ""  # CDISC CORE rule id(s) (CORE-nnnnnn), only where verified
    params: Mapping = field(default_factory=lambda: MappingProxyType({}))


def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """Every rule of the catalogue, checked: all problems reported at once."""
    return _load_rules(Path(path).resolve())


@lru_cache(maxsize=4)
def _load_rules(path: Path) -> tuple[Rule, ...]:
    from submit.qc.validate.checks import CHECKS  # noqa: PLC0415 (the registry imports the rule model)

    entries = load_yaml(path.read_text(encoding="utf-8")) or []
    problems, rules, seen = [], [], set()
    for i, entry in enumerate(entries, 1):
        where = f"rules[{i}]"
        if not isinstance(entry, dict):
            problems.append(Problem(str(path), "a rule must be a mapping", key=where))
            continue
        where = str(entry.get("id", where))
        for name in sorted(set(entry) - FIELDS):
            problems.append(Problem(str(path), f"unknown field {name!r}", key=where))
        for name in REQUIRED:
            if not entry.get(name):
                problems.append(Problem(str(path), f"missing {name}", key=where))
        rule_id = str(entry.get("id", ""))
        if rule_id and not RULE_ID.fullmatch(rule_id):
            problems.append(Problem(str(path), "id must look like SUB-AREA-001", key=where))
        if rule_id in seen:
            problems.append(Problem(str(path), "duplicate rule id", key=where))
        seen.add(rule_id)
        if entry.get("severity") not in SEVERITIES:
            problems.append(Problem(str(path), f"severity must be one of {SEVERITIES}", key=where))
        if entry.get("scope") not in SCOPES:
            problems.append(Problem(str(path), f"scope must be one of {SCOPES}", key=where))
        if entry.get("check") and entry["check"] not in CHECKS:
            problems.append(Problem(str(path), f"no check function named {entry['check']!r}", key=where))
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            problems.append(Problem(str(path), "params must be a mapping", key=where))
            params = {}
        if not problems:
            rules.append(Rule(**{k: v for k, v in entry.items() if k != "params"},
                              params=MappingProxyType(params)))
    if problems:
        raise InputError(f"the rule catalogue {path} is not valid", problems)
    return tuple(rules)
