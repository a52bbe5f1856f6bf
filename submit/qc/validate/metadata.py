"""What the study's metadata says the data must look like, whichever source it came from.

The validator reads the package's define.xml when there is one (`define_xml.py`) and otherwise the
study's spec folder (`from_spec` below). Both become this one read-only model, so that every check
is written once. define.xml carries no SDTM Core designation beyond Mandatory (Required); Expected
comes from the spec when it is the same study's (`with_core_from`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from submit.spec.model import Spec

NUMERIC_TYPES = ("integer", "float")  # Define-XML data types stored as SAS numbers


@dataclass(frozen=True)
class VariableDef:
    name: str
    label: str
    data_type: str  # a Define-XML data type: text, integer, float, date, datetime, ...
    length: int | None
    mandatory: bool
    core: str | None = None  # Req / Exp / Perm / Cond; None when the source does not say
    codelist: str | None = None  # codelist id
    order: int = 0

    @property
    def is_char(self) -> bool:
        return self.data_type not in NUMERIC_TYPES

    def has_core(self, core: str) -> bool:
        """Whether the variable is Req/Exp/...: its Core designation, else (define.xml) Mandatory = Req."""
        return self.core == core if self.core else core == "Req" and self.mandatory


@dataclass(frozen=True)
class Condition:
    """One comparison of a where clause: `variable comparator values`."""

    variable: str
    comparator: str  # EQ, NE, IN, NOTIN, LT, LE, GT, GE
    values: tuple[str, ...]


@dataclass(frozen=True)
class ValueLevelDef:
    """Value-level metadata of `dataset.variable` on the records where every condition holds."""

    dataset: str
    variable: str
    where: tuple[Condition, ...]
    data_type: str
    length: int | None
    mandatory: bool
    codelist: str | None = None
    label: str = ""  # where clause id or description, to name the slice in messages


@dataclass(frozen=True)
class CodelistDef:
    id: str
    name: str
    values: frozenset[str]
    nci_code: str = ""  # empty for a sponsor-defined codelist
    extensible: bool | None = None  # None: sponsor-defined or not known
    dictionary: str = ""  # an external dictionary (MedDRA, ISO 3166): its values are not listed


@dataclass(frozen=True)
class DatasetDef:
    name: str
    label: str
    cls: str
    keys: tuple[str, ...]
    variables: tuple[VariableDef, ...]

    def variable(self, name: str) -> VariableDef | None:
        return next((v for v in self.variables if v.name == name), None)


@dataclass(frozen=True)
class Metadata:
    source: str  # what it was read from, for the report: "define.xml" or the spec folder
    study: str
    datasets: Mapping[str, DatasetDef]
    codelists: Mapping[str, CodelistDef]
    value_level: tuple[ValueLevelDef, ...] = ()
    ct_version: str | None = None

    @property
    def has_core_designations(self) -> bool:
        """Whether Core (Req/Exp/Perm) is known, as from a spec; define.xml only says Mandatory."""
        return any(v.core for d in self.datasets.values() for v in d.variables)

    def with_core_from(self, other: Metadata) -> Metadata:
        """This metadata with the Core designations of `other` for the variables both describe."""
        datasets = {}
        for name, ds in self.datasets.items():
            theirs = other.datasets.get(name)
            variables = tuple(
                replace(v, core=(theirs.variable(v.name).core if theirs and theirs.variable(v.name) else v.core))
                for v in ds.variables)
            datasets[name] = replace(ds, variables=variables)
        return replace(self, datasets=datasets)

    def with_extensibility(self, extensible: Mapping[str, bool]) -> Metadata:
        """Extensibility of the CDISC codelists from CT (`extensible`: NCI codelist code -> bool),
        for sources that do not carry it (define.xml)."""
        codelists = {k: replace(c, extensible=extensible.get(c.nci_code)) if c.nci_code and c.extensible is None else c
                     for k, c in self.codelists.items()}
        return replace(self, codelists=codelists)


def from_spec(spec: Spec, source: str) -> Metadata:
    """The metadata of a spec folder (Pinnacle 21 style sheets, `submit.spec`)."""
    clauses = {w.id: w for w in spec.where_clauses}
    datasets = {
        d.name: DatasetDef(
            name=d.name, label=d.label, cls=d.cls, keys=tuple(d.keys),
            variables=tuple(VariableDef(name=v.name, label=v.label, data_type=v.data_type, length=v.length,
                                        mandatory=v.mandatory, core=v.core, codelist=v.codelist or None,
                                        order=v.order)
                            for v in spec.variables_of(d.name)))
        for d in spec.datasets}
    codelists = {c.id: CodelistDef(id=c.id, name=c.name, values=frozenset(c.values()), nci_code=c.nci_code,
                                   extensible=c.extensible if c.nci_code else None)
                 for c in spec.codelists}
    value_level = tuple(
        ValueLevelDef(dataset=vl.dataset, variable=vl.variable,
                      where=tuple(Condition(c.variable, c.comparator, tuple(c.values))
                                  for c in clauses[vl.where_clause].conditions) if vl.where_clause in clauses else (),
                      data_type=vl.data_type, length=vl.length, mandatory=vl.mandatory,
                      codelist=vl.codelist or None, label=vl.where_clause)
        for vl in spec.value_level)
    return Metadata(source=source, study=spec.study.name, datasets=datasets, codelists=codelists,
                    value_level=value_level)
