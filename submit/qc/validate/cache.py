"""Validation reports cached by the SHA-256 of everything validation reads, so that validating an
unchanged package again (`submit validate` after a build, or twice) costs hashing its files instead
of reading and checking them (issue 19: `submit validate` of the default package within 1 s).

The key covers the bytes of the package's dataset folders (every XPT and the define.xml, with their
paths relative to the package root), of the spec folders and the explanations file, the CT version
and the standards asked for, and the source of this program (every file of the installed `submit`
package, which holds the rules catalogue and the shipped CT) with the versions of the libraries
that read and check the data: a change to any of these validates again. A CT folder of the user's ($SUBMIT_CT) is not
hashed: with it, nothing is cached."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import submit
from submit.cache import cache_root
from submit.spec.ct import CT_ENV

CACHE_FORMAT = 1  # bump when ValidationReport changes shape


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _add(digest, label: str, data: bytes) -> None:
    digest.update(f"{label}\0{len(data)}\0".encode())
    digest.update(data)


@lru_cache(maxsize=1)
def _program() -> bytes:
    """The digest of the program: every file of the `submit` package (source, rules, CT, schemas)."""
    versions = "|".join(version(name) for name in ("pandas", "pyarrow", "numpy", "pyreadstat", "lxml"))
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{submit.__version__}|{versions}".encode())
    package = Path(submit.__file__).parent
    for path in _files(package):
        _add(digest, path.relative_to(package).as_posix(), path.read_bytes())
    return digest.digest()


def report_file(root: Path, sdtm: Path | None, adam: Path | None, is_root: bool, specs: list[Path | None],
                explanations: Path | None, ct_version: str | None, standards: tuple[str, ...]) -> Path | None:
    """Where the report of validating these inputs is cached (`sdtm`, `adam`, `is_root`: the
    package's folders as `find_folders` found them); None when it is not cached."""
    cache = cache_root()
    if cache is None or os.environ.get(CT_ENV):
        return None
    digest = hashlib.sha256(_program())
    digest.update(f"{ct_version}|{','.join(standards)}|{is_root}".encode())
    for standard, folder in (("sdtm", sdtm), ("adam", adam)):
        if folder is None:
            continue
        where = folder.resolve().relative_to(root.resolve()).as_posix() if is_root else folder.name
        _add(digest, standard, where.encode())
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in (".xpt", ".xml"):
                _add(digest, path.name, path.read_bytes())
    for i, spec in enumerate(specs):
        _add(digest, f"spec {i}", b"" if spec is None else b"present")
        for path in _files(spec) if spec is not None and spec.is_dir() else ():
            _add(digest, path.relative_to(spec).as_posix(), path.read_bytes())
    _add(digest, "explanations", explanations.read_bytes() if explanations is not None and explanations.is_file()
         else b"")
    return cache / "validate" / f"{digest.hexdigest()[:32]}.pickle"
