"""Define-XML 2.1 as an lxml tree, from the spec and the data frames it describes (one ItemGroupDef
per frame). What the spec leaves empty is measured on the frames as the XPT writer sizes it (text
Length), or as define.xml counts it (digits of numbers): see `measure`.

Byte-reproducible: elements come in spec order (datasets by class, then name), nothing depends on
the clock (CreationDateTime is the study's build date at midnight) or on dict order.

OIDs: IG.<dataset>, IT.<dataset>.<variable> (one ItemDef per dataset variable, as lengths differ
between datasets), IT.<dataset>.<variable>.<where clause id less "WC." and "<dataset>."> for value
level, VL.<dataset>.<variable>, CL.<codelist id>, LF.<dataset> for the XPT leafs; methods, comments,
where clauses and documents keep their spec ids.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import pandas as pd
from lxml import etree

import submit
from submit.config import StudyConfig
from submit.define.inputs import DefineInputs
from submit.define.measure import (ISO8601_TYPES, Selector, digits, numbers_in_text, sas_numbers, text_length,
                                   text_values)
from submit.define.standards import ct_standards, implementation_guide
from submit.errors import Problem
from submit.spec.model import Dataset, Document, Spec, ValueLevel, Variable

log = logging.getLogger("submit.define")

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
DEFINE_VERSION = "2.1.0"  # the version of the schema this module writes to
ODM_VERSION = "1.3.2"
# SDTMIG's order of classes; ADaM: ADSL first. Within a class, by name.
CLASS_ORDER = ("TRIAL DESIGN", "SPECIAL PURPOSE", "INTERVENTIONS", "EVENTS", "FINDINGS", "FINDINGS ABOUT",
               "RELATIONSHIP", "STUDY REFERENCE", "SUBJECT LEVEL ANALYSIS DATASET")


def odm(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def dfn(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


# MetaDataVersion's children in schema order; the builder appends as it goes and sorts at the end.
_MDV_ORDER = tuple(dfn(t) for t in ("Standards", "AnnotatedCRF", "SupplementalDoc", "ValueListDef",
                                    "WhereClauseDef")) + tuple(odm(t) for t in ("ItemGroupDef", "ItemDef",
                                                                                "CodeList", "MethodDef")) \
    + (dfn("CommentDef"), dfn("leaf"))


def _el(parent: etree._Element, tag: str, attrs: Mapping[str, object] | None = None,
        text: str | None = None) -> etree._Element:
    """A child with the attributes that have a value (None and "" left out), in the given order."""
    el = etree.SubElement(parent, tag)
    for name, value in (attrs or {}).items():
        if value is not None and value != "":
            el.set(name, str(value))
    if text is not None:
        el.text = text
    return el


def value_item_oid(dataset: str, variable: str, where_clause: str) -> str:
    """IT.SUPPDM.QVAL.PROTVER for where clause WC.SUPPDM.PROTVER (duplicates fail the OID check)."""
    short = where_clause.removeprefix("WC.").removeprefix(f"{dataset}.")
    return f"IT.{dataset}.{variable}.{short or where_clause}"


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _is_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype)
                or pd.api.types.is_timedelta64_dtype(series.dtype))


def page_ref(parent: etree._Element, pages: str) -> None:
    """def:PDFPageRef of a Pages cell: "12-15" a range, "3 5, 7" physical pages, else named destinations."""
    text = pages.strip()
    span = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text)
    if span:
        _el(parent, dfn("PDFPageRef"), {"FirstPage": span[1], "LastPage": span[2], "Type": "PhysicalRef"})
    elif re.fullmatch(r"\d+([\s,]+\d+)*", text):
        _el(parent, dfn("PDFPageRef"), {"PageRefs": " ".join(re.split(r"[\s,]+", text)), "Type": "PhysicalRef"})
    else:
        _el(parent, dfn("PDFPageRef"), {"PageRefs": " ".join(re.split(r"[\s,]+", text)), "Type": "NamedDestination"})


class _Builder:
    def __init__(self, spec: Spec, datasets: Mapping[str, pd.DataFrame], study: StudyConfig, inputs: DefineInputs):
        self.spec, self.data, self.study, self.inputs = spec, datasets, study, inputs
        self.lang = spec.study.language or "en"
        self.problems: list[Problem] = []
        docs = inputs.documents_of(spec.study.standard)
        self.acrf = [d.document() for d in docs.annotated_crf]
        self.supplemental = [d.document() for d in docs.supplemental]
        self.documents: dict[str, Document] = {}
        for doc in (*self.acrf, *self.supplemental, *spec.documents):
            known = self.documents.setdefault(doc.id, doc)
            if known != doc:
                self.problem("Documents", f"document {doc.id} is {known.href!r} ({known.title}) and also "
                                          f"{doc.href!r} ({doc.title})")
        self.codelists = {c.id: c for c in spec.codelists}
        self.dictionaries = {d.id: d for d in spec.dictionaries}
        self.methods = {m.id: m for m in spec.methods}
        self.comments = {c.id: c for c in spec.comments}
        self.where_clauses = {w.id: w for w in spec.where_clauses}
        self.used: dict[str, set[str]] = {k: set() for k in ("codelist", "method", "comment", "where", "document")}

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def description(self, parent: etree._Element, text: str, tag: str = "Description") -> None:
        _el(_el(parent, odm(tag)), odm("TranslatedText"), {XML_LANG: self.lang}, text)

    def use(self, kind: str, id: str, known: Mapping, what: str) -> str | None:
        """The id when the spec has it (recorded as used); else a problem and None."""
        if not id:
            return None
        if id not in known:
            self.problem(what, f"{kind} {id} is not in the spec")
            return None
        self.used[kind].add(id)
        return id

    # ------------------------------------------------------------------------------------- document
    def build(self) -> etree._ElementTree:
        spec, study = self.spec, self.study
        root = etree.Element(odm("ODM"), nsmap=NSMAP)
        for name, value in (("FileType", "Snapshot"), ("FileOID", f"DEF.{spec.study.name}.{spec.study.standard}"),
                            ("CreationDateTime", f"{study.dates.build_date.isoformat()}T00:00:00"),
                            ("ODMVersion", ODM_VERSION), ("Originator", "submit"), ("SourceSystem", "submit"),
                            ("SourceSystemVersion", submit.__version__), (dfn("Context"), "Submission")):
            root.set(name, value)
        study_el = _el(root, odm("Study"), {"OID": f"ST.{spec.study.name}"})
        names = _el(study_el, odm("GlobalVariables"))
        _el(names, odm("StudyName"), text=spec.study.name)
        _el(names, odm("StudyDescription"), text=spec.study.description)
        _el(names, odm("ProtocolName"), text=spec.study.protocol)
        mdv = _el(study_el, odm("MetaDataVersion"), {
            "OID": f"MDV.{spec.study.name}.{spec.study.standard}.{spec.study.standard_version}",
            "Name": f"Study {spec.study.name}, {spec.study.standard} {spec.study.standard_version} Data Definitions",
            "Description": f"{spec.study.standard} {spec.study.standard_version} metadata of study {spec.study.name}",
            dfn("DefineVersion"): DEFINE_VERSION})
        self.ig, problems = implementation_guide(spec, study, self.inputs.status)
        self.problems += problems
        included = self.datasets(mdv)
        self.value_lists(mdv, included)
        self.where_clause_defs(mdv, {d.name for d in included})
        self.standards(mdv)
        self.codelist_defs(mdv)
        self.method_defs(mdv)
        self.comment_defs(mdv)
        self.document_leafs(mdv)
        for tag in _MDV_ORDER:  # appending an existing child moves it: a stable sort into schema order
            for child in [c for c in mdv if c.tag == tag]:
                mdv.append(child)
        return etree.ElementTree(root)

    def standards(self, mdv: etree._Element) -> None:
        """def:Standards: the IG and the CT packages of the codelists used (known once the datasets and
        value lists are built, needed by the codelists)."""
        codes = [self.codelists[i].nci_code for i in sorted(self.used["codelist"])
                 if i in self.codelists and self.codelists[i].nci_code]
        ct, self.ct_oid = ct_standards(self.spec.study.standard, self.study.standards.ct, codes, self.inputs.status)
        element = _el(mdv, dfn("Standards"))
        for s in (self.ig, *ct):
            _el(element, dfn("Standard"), {"OID": s.oid, "Name": s.name, "Type": s.type,
                                           "PublishingSet": s.publishing_set, "Version": s.version, "Status": s.status})
        if self.acrf:
            crf = _el(mdv, dfn("AnnotatedCRF"))
            for doc in self.acrf:
                _el(crf, dfn("DocumentRef"), {"leafID": doc.id})
        if self.supplemental:
            supp = _el(mdv, dfn("SupplementalDoc"))
            for doc in self.supplemental:
                _el(supp, dfn("DocumentRef"), {"leafID": doc.id})

    # ------------------------------------------------------------------------------------- datasets
    def _rank(self, d: Dataset) -> tuple:
        return (CLASS_ORDER.index(d.cls) if d.cls in CLASS_ORDER else len(CLASS_ORDER), d.name)

    def datasets(self, mdv: etree._Element) -> list[Dataset]:
        in_spec = {d.name for d in self.spec.datasets}
        for name in sorted(set(self.data) - in_spec):
            self.problem(name, f"dataset {name} is in the data but not in the spec")
        for d in self.spec.datasets:
            if d.name not in self.data:
                log.warning("define.xml: dataset %s of the spec has no data and is left out", d.name)
        included = sorted((d for d in self.spec.datasets if d.name in self.data), key=self._rank)
        self.vlm_parents = {(x.dataset, x.variable) for x in self.spec.value_level}
        for d in included:
            self.dataset(mdv, d, self.data[d.name])
        return included

    def dataset(self, mdv: etree._Element, d: Dataset, df: pd.DataFrame) -> None:
        group = _el(mdv, odm("ItemGroupDef"), {
            "OID": f"IG.{d.name}", "Domain": d.name if d.purpose == "Tabulation" else None, "Name": d.name,
            "Repeating": _yes(d.repeating), "IsReferenceData": _yes(d.reference), "SASDatasetName": d.name,
            "Purpose": d.purpose, dfn("Structure"): d.structure, dfn("ArchiveLocationID"): f"LF.{d.name}",
            dfn("StandardOID"): self.ig.oid,
            dfn("CommentOID"): self.use("comment", d.comment, self.comments, f"dataset {d.name}")})
        self.description(group, d.label)
        variables = self.spec.variables_of(d.name)
        for column in [c for c in df.columns if c not in {v.name for v in variables}]:
            self.problem(d.name, f"{d.name}.{column} is in the data but not in the spec")
        keys = {k: i for i, k in enumerate(d.keys, 1)}
        for v in variables:
            what = f"{d.name}.{v.name}"
            _el(group, odm("ItemRef"), {
                "ItemOID": f"IT.{d.name}.{v.name}", "OrderNumber": v.order, "Mandatory": _yes(v.mandatory),
                "KeySequence": keys.get(v.name), "MethodOID": self.use("method", v.method, self.methods, what),
                "Role": v.role})
            self.item_def(mdv, f"IT.{d.name}.{v.name}", v, df[v.name] if v.name in df else None, what,
                          value_list=f"VL.{d.name}.{v.name}" if (d.name, v.name) in self.vlm_parents else "")
        cls = _el(group, dfn("Class"), {"Name": d.cls})
        if d.subclass:
            _el(cls, dfn("SubClass"), {"Name": d.subclass})
        leaf = _el(group, dfn("leaf"), {"ID": f"LF.{d.name}", f"{{{XLINK_NS}}}href": f"{d.name.lower()}.xpt"})
        _el(leaf, dfn("title"), text=f"{d.name.lower()}.xpt")

    def measure(self, item: Variable | ValueLevel, series: pd.Series | None) -> tuple[int | None, int | None]:
        """(Length, SignificantDigits): the spec's, else measured on the data."""
        kind = item.data_type
        if kind in ISO8601_TYPES:
            return None, None
        if kind == "text":
            return item.length or (text_length(series) if series is not None else 1), None
        if series is None:
            found = digits([])
        elif _is_text(series):  # numbers in a character variable (value level of QVAL, --ORRES)
            found = digits(numbers_in_text(text_values(series))[0])
        else:
            found = digits(sas_numbers(series, item.display_format))
        if kind == "integer":
            return item.length or found.integer, None
        decimals = found.decimals if item.significant_digits is None else item.significant_digits
        return item.length or max(found.length, 1), decimals

    def item_def(self, mdv: etree._Element, oid: str, item: Variable | ValueLevel, series: pd.Series | None,
                 what: str, *, name: str = "", label: str = "", value_list: str = "") -> None:
        length, significant = self.measure(item, series)
        element = _el(mdv, odm("ItemDef"), {
            "OID": oid, "Name": name or item.name, "DataType": item.data_type, "Length": length,
            "SignificantDigits": significant, "SASFieldName": name or item.name,
            dfn("DisplayFormat"): item.display_format,
            dfn("CommentOID"): self.use("comment", item.comment, self.comments, what)})
        if isinstance(item, Variable) or label:
            self.description(element, label or item.label)
        if item.codelist:
            if item.codelist in self.codelists or item.codelist in self.dictionaries:
                self.used["codelist"].add(item.codelist)
                _el(element, odm("CodeListRef"), {"CodeListOID": f"CL.{item.codelist}"})
            else:
                self.problem(what, f"codelist {item.codelist} is neither a codelist nor a dictionary of the spec")
        origin = _el(element, dfn("Origin"), {"Type": item.origin, "Source": item.source})
        if item.origin == "Predecessor" and item.predecessor:
            self.description(origin, item.predecessor)
        if item.pages:
            if self.acrf:
                page_ref(_el(origin, dfn("DocumentRef"), {"leafID": self.acrf[0].id}), item.pages)
            else:
                self.problem(what, f"annotated CRF pages {item.pages!r} but the define has no annotated CRF "
                                   "(documents of define/define.yaml)")
        if value_list:
            _el(element, dfn("ValueListRef"), {"ValueListOID": value_list})

    # ---------------------------------------------------------------------------------- value level
    def value_lists(self, mdv: etree._Element, included: list[Dataset]) -> None:
        rank = {d.name: i for i, d in enumerate(included)}
        order = {(v.dataset, v.name): v.order for v in self.spec.variables}
        rows = [x for x in self.spec.value_level if x.dataset in rank]
        parents = sorted({(x.dataset, x.variable) for x in rows}, key=lambda k: (rank[k[0]], order.get(k, 0)))
        selectors: dict[str, Selector] = {}  # by dataset: its text columns factorized once
        for ds, var in parents:
            value_list = _el(mdv, dfn("ValueListDef"), {"OID": f"VL.{ds}.{var}"})
            df = self.data[ds]
            select = selectors.setdefault(ds, Selector(df))
            mine = sorted((x for x in rows if (x.dataset, x.variable) == (ds, var)), key=lambda x: x.order)
            for number, x in enumerate(mine, 1):
                what = f"{ds}.{var} where {x.where_clause}"
                clause = self.where_clauses.get(x.where_clause)
                if clause is None:
                    self.problem(what, f"where clause {x.where_clause} is not in the spec")
                    continue
                self.used["where"].add(clause.id)
                oid = value_item_oid(ds, var, clause.id)
                ref = _el(value_list, odm("ItemRef"), {
                    "ItemOID": oid, "OrderNumber": number, "Mandatory": _yes(x.mandatory),
                    "MethodOID": self.use("method", x.method, self.methods, what)})
                _el(ref, dfn("WhereClauseRef"), {"WhereClauseOID": clause.id})
                mask = select.mask([(c.variable, c.comparator, c.values) for c in clause.conditions
                                    if c.dataset == ds])
                self.item_def(mdv, oid, x, df[var][mask] if var in df else None, what, name=var)

    def where_clause_defs(self, mdv: etree._Element, included: set[str]) -> None:
        for w in self.spec.where_clauses:
            if w.id not in self.used["where"]:
                continue
            clause = _el(mdv, dfn("WhereClauseDef"), {"OID": w.id})
            for c in w.conditions:
                if c.dataset not in included:
                    self.problem(f"where clause {w.id}", f"condition on {c.dataset}.{c.variable}, a dataset this "
                                                         "define does not hold")
                check = _el(clause, odm("RangeCheck"), {"Comparator": c.comparator, "SoftHard": "Soft",
                                                        dfn("ItemOID"): f"IT.{c.dataset}.{c.variable}"})
                for value in c.values:
                    _el(check, odm("CheckValue"), text=value)

    # --------------------------------------------------------------------- codelists, methods, ...
    def codelist_defs(self, mdv: etree._Element) -> None:
        for cl in self.spec.codelists:
            if cl.id not in self.used["codelist"]:
                continue
            element = _el(mdv, odm("CodeList"), {
                "OID": f"CL.{cl.id}", "Name": cl.name, "DataType": cl.data_type,
                dfn("StandardOID"): self.ct_oid.get(cl.nci_code),
                dfn("CommentOID"): self.use("comment", cl.comment, self.comments, f"codelist {cl.id}")})
            decoded = any(t.decode for t in cl.terms)
            terms = sorted(cl.terms, key=lambda t: t.order)
            for number, t in enumerate(terms, 1):
                item = _el(element, odm("CodeListItem" if decoded else "EnumeratedItem"), {
                    "CodedValue": t.value, "OrderNumber": number, dfn("ExtendedValue"): "Yes" if t.extended else None})
                if decoded:
                    self.description(item, t.decode or t.value, tag="Decode")
                if t.nci_code:
                    _el(item, odm("Alias"), {"Context": "nci:ExtCodeID", "Name": t.nci_code})
            if cl.nci_code:
                _el(element, odm("Alias"), {"Context": "nci:ExtCodeID", "Name": cl.nci_code})
        for d in self.spec.dictionaries:
            if d.id in self.used["codelist"]:
                element = _el(mdv, odm("CodeList"), {"OID": f"CL.{d.id}", "Name": d.name, "DataType": d.data_type})
                _el(element, odm("ExternalCodeList"), {"Dictionary": d.dictionary, "Version": d.version})

    def document_ref(self, parent: etree._Element, document: str, pages: str, what: str) -> None:
        if self.use("document", document, self.documents, what):
            ref = _el(parent, dfn("DocumentRef"), {"leafID": document})
            if pages:
                page_ref(ref, pages)
        elif pages:
            self.problem(what, f"pages {pages!r} without a document")

    def method_defs(self, mdv: etree._Element) -> None:
        for m in self.spec.methods:
            if m.id not in self.used["method"]:
                continue
            element = _el(mdv, odm("MethodDef"), {"OID": m.id, "Name": m.name, "Type": m.type})
            self.description(element, m.description)
            if m.expression_code:
                if not m.expression_context:
                    self.problem(f"method {m.id}", "Expression Code needs an Expression Context (e.g. SAS, R)")
                _el(element, odm("FormalExpression"), {"Context": m.expression_context or "unknown"},
                    m.expression_code)
            self.document_ref(element, m.document, m.pages, f"method {m.id}")

    def comment_defs(self, mdv: etree._Element) -> None:
        for c in self.spec.comments:
            if c.id in self.used["comment"]:
                element = _el(mdv, dfn("CommentDef"), {"OID": c.id})
                self.description(element, c.description)
                self.document_ref(element, c.document, c.pages, f"comment {c.id}")

    def document_leafs(self, mdv: etree._Element) -> None:
        shown = {d.id for d in (*self.acrf, *self.supplemental)} | self.used["document"]
        for doc in self.documents.values():
            if doc.id in shown:
                leaf = _el(mdv, dfn("leaf"), {"ID": doc.id, f"{{{XLINK_NS}}}href": doc.href})
                _el(leaf, dfn("title"), text=doc.title)


def build_define(spec: Spec, datasets: Mapping[str, pd.DataFrame], study: StudyConfig,
                 inputs: DefineInputs) -> tuple[etree._ElementTree, list[Problem]]:
    """The define.xml tree of the datasets (by name) that the spec describes, and the problems found
    on the way (data without spec, references to nothing, aCRF pages without an aCRF...)."""
    builder = _Builder(spec, datasets, study, inputs)
    return builder.build(), builder.problems


def define_bytes(tree: etree._ElementTree, stylesheet: str = "") -> bytes:
    """The file's bytes: UTF-8, indented, with the xml-stylesheet instruction when a stylesheet is named."""
    root = tree.getroot()
    etree.indent(root, space="  ")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if stylesheet:
        head += f'<?xml-stylesheet type="text/xsl" href="{stylesheet}"?>\n'
    return head.encode() + etree.tostring(root, encoding="UTF-8", xml_declaration=False) + b"\n"
