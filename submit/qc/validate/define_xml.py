"""A Define-XML 2.1 (or 2.0) document read into the validator's metadata model.

Only what the conformance checks need: datasets (ItemGroupDef: name, label, class, keys from
ItemRef/@KeySequence), variables (ItemDef: name, label, data type, length, codelist; ItemRef/@Mandatory),
codelists (CodedValue of CodeListItem and EnumeratedItem; the NCI code from Alias nci:ExtCodeID,
whose extensibility comes from CDISC CT), and value-level metadata (ValueListDef, WhereClauseDef
RangeChecks). Schema validity is a separate check (`submit.define.schema`); this reader is lenient
and takes what is there.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from submit.qc.validate.metadata import CodelistDef, Condition, DatasetDef, Metadata, ValueLevelDef, VariableDef

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NAMESPACES = ("http://www.cdisc.org/ns/def/v2.1", "http://www.cdisc.org/ns/def/v2.0")


class DefineError(Exception):
    """define.xml cannot be read at all (not well-formed XML, no MetaDataVersion)."""


def _text(element) -> str:
    """The (first) TranslatedText of an element's Description."""
    if element is None:
        return ""
    found = element.find(f"{{{ODM}}}Description/{{{ODM}}}TranslatedText")
    return (found.text or "").strip() if found is not None else ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def read_define(path: Path) -> Metadata:
    """The metadata of a define.xml; codelist extensibility is left unknown (define.xml does not say it:
    `Metadata.with_extensibility` takes it from CDISC CT)."""
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise DefineError(f"not well-formed XML: {exc}") from exc
    mdv = root.find(f"{{{ODM}}}Study/{{{ODM}}}MetaDataVersion")
    if mdv is None:
        raise DefineError("no ODM Study/MetaDataVersion element")
    ns = next((n for n in DEF_NAMESPACES if n in set(root.nsmap.values()) | set(mdv.nsmap.values())), DEF_NAMESPACES[0])

    def d(tag: str) -> str:
        return f"{{{ns}}}{tag}"

    study = root.findtext(f"{{{ODM}}}Study/{{{ODM}}}GlobalVariables/{{{ODM}}}StudyName") or ""
    items = {e.get("OID"): e for e in mdv.iter(f"{{{ODM}}}ItemDef")}

    codelists = {}
    for cl in mdv.iter(f"{{{ODM}}}CodeList"):
        values = frozenset(e.get("CodedValue", "") for e in cl
                           if e.tag in (f"{{{ODM}}}CodeListItem", f"{{{ODM}}}EnumeratedItem"))
        alias = next((a.get("Name", "") for a in cl.findall(f"{{{ODM}}}Alias")
                      if a.get("Context") == "nci:ExtCodeID"), "")
        external = cl.find(f"{{{ODM}}}ExternalCodeList")
        dictionary = (" ".join(filter(None, (external.get("Dictionary"), external.get("Version"))))
                      if external is not None else "")
        codelists[cl.get("OID")] = CodelistDef(id=cl.get("OID"), name=cl.get("Name", ""), values=values,
                                               nci_code=alias, dictionary=dictionary)

    def variable(ref, order: int) -> VariableDef | None:
        item = items.get(ref.get("ItemOID"))
        if item is None:
            return None
        codelist = item.find(f"{{{ODM}}}CodeListRef")
        mandatory = ref.get("Mandatory") == "Yes"
        return VariableDef(name=item.get("Name", ""), label=_text(item), data_type=item.get("DataType", ""),
                           length=_int(item.get("Length")), mandatory=mandatory,
                           codelist=codelist.get("CodeListOID") if codelist is not None else None,
                           order=_int(ref.get("OrderNumber")) or order)

    datasets, owners = {}, {}
    for group in mdv.iter(f"{{{ODM}}}ItemGroupDef"):
        name = group.get("Name", "")
        refs = group.findall(f"{{{ODM}}}ItemRef")
        variables = [v for i, ref in enumerate(refs, 1) if (v := variable(ref, i)) is not None]
        keyed = sorted((_int(ref.get("KeySequence")), items[ref.get("ItemOID")].get("Name", ""))
                       for ref in refs if _int(ref.get("KeySequence")) and ref.get("ItemOID") in items)
        cls = group.find(d("Class"))
        datasets[name] = DatasetDef(name=name, label=_text(group),
                                    cls=cls.get("Name", "") if cls is not None else group.get(d("Class"), ""),
                                    keys=tuple(n for _, n in keyed),
                                    variables=tuple(sorted(variables, key=lambda v: v.order)))
        for ref in refs:
            owners.setdefault(ref.get("ItemOID"), []).append(name)

    clauses = {}
    for wc in mdv.iter(d("WhereClauseDef")):
        clauses[wc.get("OID")] = tuple(
            Condition(variable=items[rc.get(d("ItemOID"))].get("Name", "") if rc.get(d("ItemOID")) in items else "",
                      comparator=rc.get("Comparator", ""),
                      values=tuple((cv.text or "") for cv in rc.findall(f"{{{ODM}}}CheckValue")))
            for rc in wc.findall(f"{{{ODM}}}RangeCheck"))

    lists = {vl.get("OID"): vl for vl in mdv.iter(d("ValueListDef"))}
    value_level = []
    for oid, item in items.items():
        ref = item.find(d("ValueListRef"))
        if ref is None or ref.get("ValueListOID") not in lists:
            continue
        for dataset in owners.get(oid, []):
            for vref in lists[ref.get("ValueListOID")].findall(f"{{{ODM}}}ItemRef"):
                vitem = items.get(vref.get("ItemOID"))
                where = vref.find(d("WhereClauseRef"))
                if vitem is None or where is None:
                    continue
                codelist = vitem.find(f"{{{ODM}}}CodeListRef")
                value_level.append(ValueLevelDef(
                    dataset=dataset, variable=item.get("Name", ""), where=clauses.get(where.get("WhereClauseOID"), ()),
                    data_type=vitem.get("DataType", ""), length=_int(vitem.get("Length")),
                    mandatory=vref.get("Mandatory") == "Yes",
                    codelist=codelist.get("CodeListOID") if codelist is not None else None,
                    label=where.get("WhereClauseOID", "")))

    ct_version = next((s.get("Version") for s in mdv.iter(d("Standard")) if s.get("Type") == "CT"), None)
    return Metadata(source=str(path), study=study, datasets=datasets, codelists=codelists,
                    value_level=tuple(value_level), ct_version=ct_version)
