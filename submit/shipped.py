"""Where the top-level folders a build reads are: `specs/` (the study folders), `define/`
(Define-XML build inputs) and `templates/` (TLF layout).

In the repository they are top level and exist once. An installed wheel carries copies made at
build time under `submit/_shipped/` (`build_support/shipped.py`); a checkout or an editable
install has no such folder and reads them beside the package."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_path(folder: str) -> Path:
    """`folder` (`specs`, `define` or `templates`) as installed, else as in the checkout."""
    installed = PACKAGE_DIR / "_shipped" / folder
    return installed if installed.is_dir() else PACKAGE_DIR.parent / folder
