"""def:Standards of a define: the implementation guide the spec follows and the CDISC CT packages
its codelists come from (an ADaM define uses ADaM CT for PARAMCD-like codelists and SDTM CT for
SEX, RACE...; the package of a codelist is told by the ADaM CT file, the small one)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from submit.config import StudyConfig
from submit.errors import InputError, Problem
from submit.spec.ct import ct_file, read_ct_file
from submit.spec.model import Spec

CT_NAME = "CDISC/NCI"
PUBLISHING_SET = {"SDTMIG": "SDTM", "ADaMIG": "ADaM"}
_STUDY_VERSION = {"SDTMIG": "sdtmig", "ADaMIG": "adamig"}  # Standards field of study.yaml


@dataclass(frozen=True)
class Standard:
    oid: str
    name: str
    type: str  # "IG" or "CT"
    version: str
    status: str
    publishing_set: str = ""


def implementation_guide(spec: Spec, study: StudyConfig, status: str) -> tuple[Standard, list[Problem]]:
    """The IG of the spec's Study sheet; a problem when study.yaml names another version."""
    name, version = spec.study.standard, spec.study.standard_version
    problems = []
    field = _STUDY_VERSION.get(name)
    if field and getattr(study.standards, field) != version:
        problems.append(Problem("study.yaml", f"the spec follows {name} {version} but study.yaml standards.{field} is "
                                         f"{getattr(study.standards, field)}", key=f"standards.{field}"))
    return Standard(f"STD.{name}.{version}", name, "IG", version, status), problems


@lru_cache(maxsize=4)
def _adam_codelists(version: str) -> frozenset[str]:
    path = ct_file(f"adam-ct-{version}.txt")
    if path is None:
        raise InputError(f"ADaM CT {version} not found", [Problem(f"adam-ct-{version}.txt", "no such CT file")])
    codelists, _ = read_ct_file(path)
    return frozenset(codelists.index)


def ct_standards(ig: str, version: str, nci_codes: Iterable[str], status: str
                 ) -> tuple[list[Standard], dict[str, str]]:
    """The CT packages the codelists of `nci_codes` come from, and each code's package OID. A define of
    ADaMIG takes a codelist from ADaM CT when ADaM CT has it; every other codelist is SDTM CT's."""
    codes = sorted(set(nci_codes))
    if not codes:
        return [], {}
    adam = _adam_codelists(version) if ig == "ADaMIG" else frozenset()
    package = {code: "ADaM" if code in adam else "SDTM" for code in codes}
    standards = [Standard(f"STD.CT.{p}.{version}", CT_NAME, "CT", version, status, p)
                 for p in ("SDTM", "ADaM") if p in package.values()]
    return standards, {code: f"STD.CT.{p}.{version}" for code, p in package.items()}
