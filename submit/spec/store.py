"""A spec folder of CSV tables (one per Pinnacle 21 sheet) read into the metadata model.

Interim reader: loads Study, Datasets, Variables, ValueLevel, WhereClauses, Codelists,
Dictionaries, Methods, Comments and Documents with the P21 column names.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from submit.errors import InputError, Problem
from submit.spec.model import (Codelist, Comment, Dataset, Dictionary, Document, Method, Spec, Study, Term,
                               ValueLevel, Variable, WhereClause, WhereCondition)


def _table(folder: Path, name: str) -> pd.DataFrame:
    """A sheet: `<name>.csv` plus the same sheet of every part folder (`parts/*/<name>.csv`)."""
    paths = [p for p in [folder / f"{name}.csv", *sorted(folder.glob(f"parts/*/{name}.csv"))] if p.is_file()]
    if not paths:
        return pd.DataFrame()
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8") for p in paths],
                     ignore_index=True).fillna("")


def _int(text: str) -> int | None:
    return int(text) if str(text).strip() else None


def _yes(text: str) -> bool:
    return str(text).strip().lower() in ("yes", "y", "true")


def load_spec(folder: str | Path) -> Spec:
    folder = Path(folder)
    if not (folder / "Datasets.csv").is_file():
        raise InputError("Spec not found", [Problem(str(folder), "no Datasets.csv")])
    study = dict(_table(folder, "Study").values.tolist())
    datasets = tuple(
        Dataset(name=r.Dataset, label=r.Description, cls=r.Class, structure=r.Structure, purpose=r.Purpose,
                keys=tuple(r["Key Variables"].replace(",", " ").split()), repeating=_yes(r.Repeating),
                reference=_yes(r["Reference Data"]), subclass=r.get("Subclass", ""), comment=r.Comment,
                order=_int(r.get("Order", "")) or 0, notes=r["Developer Notes"])
        for _, r in _table(folder, "Datasets").iterrows())
    variables = tuple(
        Variable(dataset=r.Dataset, name=r.Variable, label=r.Label, data_type=r["Data Type"], length=_int(r.Length),
                 order=_int(r.Order) or 0, core=r.get("Core", "") or ("Req" if _yes(r.Mandatory) else "Perm"),
                 significant_digits=_int(r["Significant Digits"]), display_format=r.Format, codelist=r.Codelist,
                 origin=r.Origin, source=r.Source, pages=r.Pages, method=r.Method, predecessor=r.Predecessor,
                 role=r.Role, comment=r.Comment, assigned_value=r["Assigned Value"], notes=r["Developer Notes"])
        for _, r in _table(folder, "Variables").iterrows())
    terms: dict[str, list] = {}
    heads: dict[str, pd.Series] = {}
    for _, r in _table(folder, "Codelists").iterrows():
        heads.setdefault(r.ID, r)
        terms.setdefault(r.ID, []).append(Term(value=r.Term, nci_code=r["NCI Term Code"], decode=r["Decoded Value"],
                                               order=_int(r.Order) or 0, extended=_yes(r.Extended)))
    codelists = tuple(
        Codelist(id=cid, name=h.Name, data_type=h["Data Type"], nci_code=h["NCI Codelist Code"],
                 extensible=_yes(h.Extensible) if h.Extensible else None, terminology=h.Terminology,
                 terms=tuple(terms[cid]), comment=h.Comment)
        for cid, h in heads.items())
    where: dict[str, list] = {}
    for _, r in _table(folder, "WhereClauses").iterrows():
        where.setdefault(r.ID, []).append(WhereCondition(r.Dataset, r.Variable, r.Comparator, tuple(r.Value.split("|"))))
    value_level = tuple(
        ValueLevel(dataset=r.Dataset, variable=r.Variable, where_clause=r["Where Clause"], data_type=r["Data Type"],
                   length=_int(r.Length), order=_int(r.Order) or 0, significant_digits=_int(r["Significant Digits"]),
                   display_format=r.Format, codelist=r.Codelist, origin=r.Origin, source=r.Source, pages=r.Pages,
                   method=r.Method, predecessor=r.Predecessor, comment=r.Comment, mandatory=_yes(r.Mandatory))
        for _, r in _table(folder, "ValueLevel").iterrows())
    return Spec(
        study=Study(name=study.get("StudyName", ""), description=study.get("StudyDescription", ""),
                    protocol=study.get("ProtocolName", ""), standard=study.get("StandardName", ""),
                    standard_version=study.get("StandardVersion", ""), language=study.get("Language", "en")),
        datasets=datasets, variables=variables, value_level=value_level,
        where_clauses=tuple(WhereClause(k, tuple(v)) for k, v in where.items()), codelists=codelists,
        dictionaries=tuple(Dictionary(r.ID, r.Name, r["Data Type"], r.Dictionary, r.Version)
                           for _, r in _table(folder, "Dictionaries").iterrows()),
        methods=tuple(Method(r.ID, r.Name, r.Type, r.Description, r["Expression Context"], r["Expression Code"],
                             r.Document, r.Pages) for _, r in _table(folder, "Methods").iterrows()),
        comments=tuple(Comment(r.ID, r.Description, r.Document, r.Pages) for _, r in _table(folder, "Comments").iterrows()),
        documents=tuple(Document(r.ID, r.Title, r.Href) for _, r in _table(folder, "Documents").iterrows()),
    )
