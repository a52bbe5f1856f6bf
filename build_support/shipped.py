"""setuptools build hook: the top-level folders a build reads (specs/, define/, templates/) copied
into the wheel as `submit/_shipped/<folder>/`.

They stay top level in the repository (the study folders are what users edit and read) and exist
once there; a checkout or an editable install reads them in place, an installed wheel from
`submit/_shipped/` (`submit/shipped.py` resolves which)."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

SHIPPED_FOLDERS = ("specs", "define", "templates")
ROOT = Path(__file__).resolve().parent.parent


class BuildPyWithShipped(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the folders in place
            return
        target = Path(self.build_lib) / "submit" / "_shipped"
        for folder in SHIPPED_FOLDERS:
            shutil.rmtree(target / folder, ignore_errors=True)
            shutil.copytree(ROOT / folder, target / folder,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
