"""A define.xml read back into the few tables the consistency check compares with the XPT files:
datasets with their leaf and variables, item definitions, codelists, value lists and where clauses.
Read from the file, not from the spec, so that the check tests what a reviewer receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from submit.define.xml import DEF_NS, ODM_NS, XLINK_NS

_O, _D = f"{{{ODM_NS}}}", f"{{{DEF_NS}}}"
HREF = f"{{{XLINK_NS}}}href"


@dataclass(frozen=True)
class Item:
    oid: str
    name: str
    label: str
    data_type: str
    length: int | None
    significant_digits: int | None
    display_format: str
    codelist: str  # CodeList OID or ""
    value_list: str  # ValueListDef OID or ""


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    href: str  # of its def:leaf; "" when it has none
    items: tuple[str, ...]  # ItemDef OIDs in OrderNumber order
    oid: str = ""
    key_sequence: dict[str, int] = field(default_factory=dict)  # ItemDef OID -> KeySequence


@dataclass(frozen=True)
class CodeList:
    oid: str
    data_type: str
    values: tuple[str, ...] | None  # None: an external dictionary (MedDRA...)
    nci_code: str  # "" for a sponsor codelist


@dataclass(frozen=True)
class ValueItem:
    item: str  # ItemDef OID
    where: tuple[str, ...]  # WhereClauseDef OIDs


@dataclass(frozen=True)
class Condition:
    item: str  # ItemDef OID of the variable tested
    comparator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Define:
    path: Path
    groups: tuple[Group, ...]
    items: dict[str, Item]
    codelists: dict[str, CodeList]
    value_lists: dict[str, tuple[ValueItem, ...]]
    where_clauses: dict[str, tuple[Condition, ...]]
    ct_versions: tuple[str, ...]  # Version of each def:Standard of Type CT
    document_hrefs: tuple[tuple[str, str], ...]  # (leaf ID, href) of the document leafs
    stylesheet: str  # href of the xml-stylesheet instruction, "" if none
    header: dict[str, str] = field(default_factory=dict)  # ODM and Study OIDs, dates and origin (see read_define)


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "") if found is not None else ""


def _int(text: str | None) -> int | None:
    return int(text) if text else None


def read_define(path: Path) -> Define:
    doc = etree.parse(str(path), etree.XMLParser(huge_tree=True))
    root = doc.getroot()
    mdv = root.find(f"{_O}Study/{_O}MetaDataVersion")
    description = f"{_O}Description/{_O}TranslatedText"
    items = {e.get("OID"): Item(
        e.get("OID"), e.get("Name"), _text(e, description), e.get("DataType"), _int(e.get("Length")),
        _int(e.get("SignificantDigits")), e.get(f"{_D}DisplayFormat", ""),
        (e.find(f"{_O}CodeListRef").get("CodeListOID") if e.find(f"{_O}CodeListRef") is not None else ""),
        (e.find(f"{_D}ValueListRef").get("ValueListOID") if e.find(f"{_D}ValueListRef") is not None else ""))
        for e in mdv.iter(f"{_O}ItemDef")}
    groups = []
    for g in mdv.iter(f"{_O}ItemGroupDef"):
        refs = sorted(g.iter(f"{_O}ItemRef"), key=lambda r: int(r.get("OrderNumber") or 0))
        leaf = g.find(f"{_D}leaf")
        groups.append(Group(g.get("Name"), _text(g, description), leaf.get(HREF, "") if leaf is not None else "",
                            tuple(r.get("ItemOID") for r in refs), g.get("OID"),
                            {r.get("ItemOID"): int(r.get("KeySequence")) for r in refs if r.get("KeySequence")}))
    codelists = {}
    for c in mdv.iter(f"{_O}CodeList"):
        external = c.find(f"{_O}ExternalCodeList") is not None
        values = None if external else tuple(i.get("CodedValue") for i in c
                                             if i.tag in (f"{_O}CodeListItem", f"{_O}EnumeratedItem"))
        alias = c.find(f"{_O}Alias[@Context='nci:ExtCodeID']")
        codelists[c.get("OID")] = CodeList(c.get("OID"), c.get("DataType"), values,
                                           alias.get("Name") if alias is not None else "")
    value_lists = {v.get("OID"): tuple(ValueItem(r.get("ItemOID"), tuple(w.get("WhereClauseOID")
                                                                         for w in r.iter(f"{_D}WhereClauseRef")))
                                       for r in v.iter(f"{_O}ItemRef"))
                   for v in mdv.iter(f"{_D}ValueListDef")}
    where = {w.get("OID"): tuple(Condition(r.get(f"{_D}ItemOID"), r.get("Comparator", ""),
                                           tuple(v.text or "" for v in r.iter(f"{_O}CheckValue")))
                                 for r in w.iter(f"{_O}RangeCheck"))
             for w in mdv.iter(f"{_D}WhereClauseDef")}
    ct = tuple(s.get("Version") for s in mdv.iter(f"{_D}Standard") if s.get("Type") == "CT")
    documents = tuple((leaf.get("ID"), leaf.get(HREF, "")) for leaf in mdv.findall(f"{_D}leaf"))
    stylesheet = ""
    for node in root.itersiblings(preceding=True):
        if isinstance(node, etree._ProcessingInstruction) and node.target == "xml-stylesheet":
            stylesheet = node.get("href") or ""
    header = {name: root.get(name, "") for name in ("FileOID", "CreationDateTime", "Originator", "SourceSystem",
                                                    "SourceSystemVersion")}
    header |= {"StudyOID": mdv.getparent().get("OID", ""), "MetaDataVersionOID": mdv.get("OID", "")}
    return Define(Path(path), tuple(groups), items, codelists, value_lists, where, ct, documents, stylesheet, header)
