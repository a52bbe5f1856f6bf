"""Is a define.xml valid? Against the CDISC Define-XML 2.1 schema, loaded from the installed
`defineutils` package (which ships the CDISC XSDs; they are not copied here), and for the OID
references the schema cannot check: ODM's OID references are plain text to XML Schema, so a
CodeListRef to a codelist that is not there passes the XSD."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from lxml import etree

from submit.define.xml import DEF_NS, ODM_NS

_SCHEMA = ("validate", "schema", "cdisc-define-2.1", "define2-1-0.xsd")
_O, _D = f"{{{ODM_NS}}}", f"{{{DEF_NS}}}"
# (element carrying the reference or None for any element, attribute, element type it must name)
REFERENCES = (
    (_O + "ItemRef", "ItemOID", _O + "ItemDef"),
    (_O + "ItemRef", "MethodOID", _O + "MethodDef"),
    (_O + "CodeListRef", "CodeListOID", _O + "CodeList"),
    (_D + "ValueListRef", "ValueListOID", _D + "ValueListDef"),
    (_D + "WhereClauseRef", "WhereClauseOID", _D + "WhereClauseDef"),
    (_O + "RangeCheck", _D + "ItemOID", _O + "ItemDef"),
    (None, _D + "CommentOID", _D + "CommentDef"),
    (None, _D + "StandardOID", _D + "Standard"),
)
DEFINITIONS = tuple(sorted({target for _, _, target in REFERENCES}))


def defineutils_file(*parts: str) -> Path:
    """A file shipped in the installed defineutils package, found without importing it (importing
    it loads xmlschema, 0.3 s, which nothing here uses)."""
    spec = find_spec("defineutils")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the defineutils package is not installed")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


@lru_cache(maxsize=1)
def define_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(defineutils_file(*_SCHEMA))))  # a real path: the XSD includes its siblings


def schema_errors(path: Path) -> list[str]:
    """Every problem of the define.xml at `path`, as "line N: message": not well-formed XML, XSD
    violations, duplicate OIDs, and OID references to nothing. Empty when valid. The answer depends
    on the bytes alone: a build asks twice (writing the define, validating the package), the
    schema is applied once."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return [f"cannot read {path}: {exc}"]
    digest = hashlib.sha256(data).hexdigest()
    if digest not in _CHECKED:
        _CHECKED[digest] = _errors_of(data)
    return list(_CHECKED[digest])


_CHECKED: dict[str, tuple[str, ...]] = {}  # SHA-256 of a define.xml's bytes -> its problems


def _errors_of(data: bytes) -> tuple[str, ...]:
    try:
        doc = etree.fromstring(data, etree.XMLParser(huge_tree=True)).getroottree()
    except etree.XMLSyntaxError as exc:
        return (f"line {exc.lineno}: {exc.msg}",)
    schema = define_schema()
    errors = [] if schema.validate(doc) else [f"line {e.line}: {e.message}" for e in schema.error_log]
    return tuple(errors + reference_errors(doc))


def _local(tag: str) -> str:
    return etree.QName(tag).localname if tag.startswith("{") else tag


def reference_errors(doc: etree._ElementTree) -> list[str]:
    """Duplicate OIDs within a kind of definition, and OID references that name no definition."""
    root = doc.getroot()
    errors = []
    oids: dict[str, set[str]] = {}
    for kind in DEFINITIONS:
        elements = list(root.iter(kind))
        counts = Counter(e.get("OID") for e in elements)
        errors += [f"line {e.sourceline}: {_local(kind)} OID {e.get('OID')!r} is defined {counts[e.get('OID')]} times"
                   for e in elements if counts[e.get("OID")] > 1]
        oids[kind] = set(counts)
    for tag, attribute, target in REFERENCES:
        for element in root.iter(tag) if tag else root.iter():
            value = element.get(attribute)
            if value is not None and value not in oids[target]:
                errors.append(f"line {element.sourceline}: {_local(element.tag)} {_local(attribute)} {value!r} "
                              f"names no {_local(target)}")
    return errors
