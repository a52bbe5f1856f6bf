"""CDISC Controlled Terminology as published by NCI EVS (tab-separated), for building and checking
spec codelists.

A CT folder holds `sdtm-ct-<version>.txt` and `adam-ct-<version>.txt` (or the same gzipped,
`.txt.gz`); `load_terminology(version)` reads both into one `Terminology`, because an ADaM spec also
uses SDTM codelists (SEX, RACE...). The files are looked for in `$SUBMIT_CT` (a newer package a
sponsor downloads from NCI EVS), then in the CT this package ships (`submit/ct/`). In a file, a row with an
empty Codelist Code is a codelist header (its Code is the codelist C-code); every other row is a
term of the codelist its Codelist Code names. Everything is read and looked up column-wise.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

import submit
from submit.cache import cache_root, load_entry, store_entry
from submit.errors import InputError, Problem
from submit.spec.model import Codelist, Term

log = logging.getLogger(__name__)
CT_ENV = "SUBMIT_CT"
CACHE_FORMAT = 1  # bump when the parsed form changes: older cache files are then ignored
CT_FILES = ("sdtm-ct-{version}.txt", "adam-ct-{version}.txt")
TERMINOLOGY = "CDISC/NCI"  # the Terminology of a spec codelist taken from CT
_COLUMNS = {"Code": "code", "Codelist Code": "codelist", "Codelist Extensible (Yes/No)": "extensible",
            "Codelist Name": "name", "CDISC Submission Value": "value", "CDISC Synonym(s)": "synonyms",
            "CDISC Definition": "definition", "NCI Preferred Term": "preferred"}


SHIPPED_CT = Path(submit.__file__).resolve().parent / "ct"


def ct_folders() -> list[Path]:
    """Where CT files are looked for, in order: `$SUBMIT_CT`, then the CT shipped with the package."""
    env = os.environ.get(CT_ENV)
    return [Path(env), SHIPPED_CT] if env else [SHIPPED_CT]


def ct_file(name: str) -> Path | None:
    """The first CT file `name` (e.g. `sdtm-ct-2025-03-28.txt`), plain or gzipped, of `ct_folders()`."""
    for folder in ct_folders():
        for path in (folder / name, folder / f"{name}.gz"):
            if path.is_file():
                return path
    return None


@dataclass(frozen=True, eq=False)
class Terminology:
    """One CT version. `codelists` is indexed by codelist C-code (columns value = the codelist's
    submission value such as "SEX", name, extensible: bool); `terms` has one row per term
    (codelist, code, value, synonyms, definition, preferred) in the order of the CT file."""

    version: str
    codelists: pd.DataFrame
    terms: pd.DataFrame

    def codelist_code(self, key: str) -> str:
        """The C-code of a codelist given its C-code or its submission value ("C66731" or "SEX")."""
        if key in self.codelists.index:
            return key
        hit = self.codelists.index[self.codelists["value"].str.upper() == key.strip().upper()]
        if len(hit) != 1:
            raise KeyError(f"no codelist {key!r} in CDISC CT {self.version}")
        return hit[0]

    def codelist(self, key: str, id: str | None = None) -> Codelist:
        """The whole CT codelist as a spec codelist (every term, in CT order)."""
        return codelist_from_ct(key, id=id, ct=self)

    def terms_of(self, key: str) -> pd.DataFrame:
        return self.terms[self.terms["codelist"] == self.codelist_code(key)]


def read_ct_file(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(codelists, terms) of one NCI EVS file. Parsing the 13 MB SDTM file takes ~0.4 s, so the parsed
    form is cached by the SHA-256 of the file's bytes (a changed or other file is parsed again); an
    unreadable or unwritable cache only means parsing."""
    data = Path(path).read_bytes()
    cache = _cache_file(data)
    parsed = load_entry(cache)
    if parsed is None:
        parsed = _parse_ct(data, Path(path))
        store_entry(cache, parsed)
    return parsed


def _cache_file(data: bytes) -> Path | None:
    """Where the parsed form of CT file bytes `data` is cached, keyed also by the pandas version
    (a pickled frame is read back by the pandas that wrote it)."""
    root = cache_root()
    if root is None:
        return None
    key = hashlib.sha256(data + f"|{CACHE_FORMAT}|{pd.__version__}".encode()).hexdigest()[:32]
    return root / "ct" / f"{key}.pickle"


def _parse_ct(data: bytes, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(codelists, terms) of the bytes of an NCI EVS file (gzipped or not). Quotes are text there,
    never delimiters."""
    df = pd.read_csv(io.BytesIO(data), sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE,
                     encoding="utf-8", compression="gzip" if data[:2] == b"\x1f\x8b" else None)
    missing = sorted(set(_COLUMNS) - set(df.columns))
    if missing:
        raise InputError(f"{path} is not an NCI EVS CT file", [Problem(str(path), f"missing columns {missing}")])
    df = df.rename(columns=_COLUMNS)[list(_COLUMNS.values())]
    is_header = df["codelist"] == ""
    codelists = (df[is_header].set_index("code")[["value", "name", "extensible"]]
                 .assign(extensible=lambda d: d["extensible"].str.strip().str.lower() == "yes"))
    terms = df[~is_header].drop(columns="extensible").reset_index(drop=True)
    return codelists, terms


@lru_cache(maxsize=4)
def _load(folders: tuple[Path, ...], version: str) -> Terminology:
    names = [name.format(version=version) for name in CT_FILES]
    found = [p for p in (ct_file(n) for n in names) if p is not None]
    if not found:
        raise InputError(f"CDISC CT {version} not found: download the NCI EVS files {' and '.join(names)} "
                         f"into a folder and set ${CT_ENV} to it", [Problem(str(f), "no CT files of that version")
                                                                     for f in folders])
    parts = [read_ct_file(p) for p in found]
    # A codelist published in both files appears once.
    codelists = pd.concat([c for c, _ in parts])
    codelists = codelists[~codelists.index.duplicated()]
    terms = pd.concat([t for _, t in parts], ignore_index=True).drop_duplicates(["codelist", "code"])
    return Terminology(version, codelists, terms.reset_index(drop=True))


def load_terminology(version: str) -> Terminology:
    """SDTM and ADaM CT of `version` (see `ct_folders`); cached."""
    return _load(tuple(ct_folders()), version)


def codelist_from_ct(c_code: str, values: Sequence[str] | None = None, id: str | None = None,
                     *, ct: Terminology) -> Codelist:
    """A spec codelist from CT: every term, or the given submission values in the given order.

    `c_code` may also be the codelist's submission value ("SEX"). The id defaults to that submission
    value. `ct` is the study's CT version (`load_terminology(study.standards.ct)`): no study is
    assumed. Decodes are the NCI preferred terms, which is what Pinnacle 21 puts in Decoded Value and
    define.xml shows as the Decode of a CDISC term. Unknown values raise KeyError naming them all:
    sponsor extensions are added explicitly (Term(..., extended=True)), never guessed from a typo.
    """
    code = ct.codelist_code(c_code)
    header = ct.codelists.loc[code]
    terms = ct.terms[ct.terms["codelist"] == code]
    if values is not None:
        by_value = terms.set_index("value")
        unknown = [v for v in values if v not in by_value.index]
        if unknown:
            raise KeyError(f"not in CDISC CT {ct.version} codelist {code} ({header['value']}): {unknown}")
        terms = by_value.loc[list(values)].reset_index()
    return Codelist(
        id=id or header["value"], name=header["name"], data_type="text", nci_code=code,
        extensible=bool(header["extensible"]), terminology=TERMINOLOGY,
        terms=tuple(Term(value=v, nci_code=c, decode=p, order=i)
                    for i, (v, c, p) in enumerate(zip(terms["value"], terms["code"], terms["preferred"]), 1)))
