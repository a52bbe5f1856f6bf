"""The read-only metadata model shared by SDTM and ADaM: the tables of a Pinnacle 21 style
specification (Study, Datasets, Variables, ValueLevel, WhereClauses, Codelists, Dictionaries,
Methods, Comments, Documents) as frozen dataclasses. The mapper, the XPT writer and the define
generator all read this one model; nothing in the code restates a label or a length."""

from __future__ import annotations

from dataclasses import dataclass

ORIGIN_TYPES = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor", "Not Available")
ORIGIN_SOURCES = ("", "Investigator", "Sponsor", "Subject", "Vendor")
DATA_TYPES = ("text", "integer", "float", "date", "datetime", "time", "partialDate", "partialTime",
              "partialDatetime", "incompleteDatetime", "durationDatetime", "intervalDatetime")
CORE = ("Req", "Exp", "Perm", "Cond")


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    protocol: str
    standard: str  # e.g. "SDTMIG" or "ADaMIG"
    standard_version: str  # e.g. "3.4"
    language: str = "en"


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    cls: str  # SDTM or ADaM class, e.g. "FINDINGS", "SUBJECT LEVEL ANALYSIS DATASET"
    structure: str
    purpose: str  # "Tabulation" or "Analysis"
    keys: tuple[str, ...]
    repeating: bool
    reference: bool
    subclass: str = ""  # ADaM only, e.g. "TIME-TO-EVENT"
    comment: str = ""  # Comment id
    order: int = 0
    notes: str = ""  # developer notes, not in define.xml


@dataclass(frozen=True)
class Variable:
    dataset: str
    name: str
    label: str
    data_type: str  # one of DATA_TYPES
    length: int | None  # None: longest value in the data (character) / 8 (numeric)
    order: int
    core: str = "Perm"  # Req / Exp / Perm / Cond
    significant_digits: int | None = None
    display_format: str = ""  # SAS format for numeric dates etc., e.g. "DATE9."
    codelist: str = ""  # Codelist id
    origin: str = "Collected"  # one of ORIGIN_TYPES
    source: str = ""  # one of ORIGIN_SOURCES
    pages: str = ""  # aCRF pages for Collected
    method: str = ""  # Method id for Derived
    predecessor: str = ""  # e.g. "ADSL.AGE" for Predecessor
    role: str = ""  # SDTM role
    comment: str = ""  # Comment id
    assigned_value: str = ""  # for Assigned/Protocol constants
    notes: str = ""

    @property
    def mandatory(self) -> bool:
        return self.core == "Req"

    @property
    def is_char(self) -> bool:
        return self.data_type not in ("integer", "float")


@dataclass(frozen=True)
class WhereCondition:
    dataset: str
    variable: str
    comparator: str  # EQ, NE, IN, NOTIN, LT, LE, GT, GE
    values: tuple[str, ...]


@dataclass(frozen=True)
class WhereClause:
    id: str
    conditions: tuple[WhereCondition, ...]


@dataclass(frozen=True)
class ValueLevel:
    dataset: str
    variable: str
    where_clause: str  # WhereClause id
    data_type: str
    length: int | None
    order: int
    significant_digits: int | None = None
    display_format: str = ""
    codelist: str = ""
    origin: str = "Collected"
    source: str = ""
    pages: str = ""
    method: str = ""
    predecessor: str = ""
    comment: str = ""
    mandatory: bool = False
    assigned_value: str = ""
    notes: str = ""  # developer notes, not in define.xml


@dataclass(frozen=True)
class Term:
    value: str  # submission value
    nci_code: str = ""  # empty for sponsor-defined terms
    decode: str = ""
    order: int = 0
    extended: bool = False  # a sponsor extension of an extensible CDISC codelist


@dataclass(frozen=True)
class Codelist:
    id: str
    name: str
    data_type: str
    nci_code: str = ""  # empty for a sponsor-defined codelist
    extensible: bool | None = None
    terminology: str = ""  # e.g. "CDISC/NCI"; empty for sponsor-defined
    terms: tuple[Term, ...] = ()
    comment: str = ""

    def values(self) -> tuple[str, ...]:
        return tuple(t.value for t in self.terms)


@dataclass(frozen=True)
class Dictionary:
    id: str
    name: str
    data_type: str
    dictionary: str  # e.g. "MedDRA"
    version: str


@dataclass(frozen=True)
class Method:
    id: str
    name: str
    type: str  # "Computation" or "Imputation"
    description: str
    expression_context: str = ""
    expression_code: str = ""
    document: str = ""
    pages: str = ""


@dataclass(frozen=True)
class Comment:
    id: str
    description: str
    document: str = ""
    pages: str = ""


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    href: str


@dataclass(frozen=True)
class Spec:
    study: Study
    datasets: tuple[Dataset, ...]
    variables: tuple[Variable, ...]
    value_level: tuple[ValueLevel, ...] = ()
    where_clauses: tuple[WhereClause, ...] = ()
    codelists: tuple[Codelist, ...] = ()
    dictionaries: tuple[Dictionary, ...] = ()
    methods: tuple[Method, ...] = ()
    comments: tuple[Comment, ...] = ()
    documents: tuple[Document, ...] = ()

    def dataset(self, name: str) -> Dataset:
        return next(d for d in self.datasets if d.name == name)

    def variables_of(self, dataset: str) -> tuple[Variable, ...]:
        return tuple(sorted((v for v in self.variables if v.dataset == dataset), key=lambda v: v.order))

    def codelist(self, id: str) -> Codelist:
        return next(c for c in self.codelists if c.id == id)
