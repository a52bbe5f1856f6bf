"""A package against its `manifest.json` (written last by `submit build`): every file it lists must
still exist with the same size and SHA-256, so a dataset edited or replaced after the build is
caught before it is sent."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from submit.errors import Problem

MANIFEST = "manifest.json"


def manifest_problems(root: Path) -> list[Problem]:
    """One problem per listed file that is missing or differs; none when there is no manifest."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return []
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        listed = [(f["path"], int(f["bytes"]), str(f["sha256"])) for f in files]
    except (ValueError, KeyError, TypeError) as exc:
        return [Problem(str(path), f"not a manifest of submit build ({exc})")]
    problems = []
    for name, size, digest in listed:
        file = Path(root) / name
        if not file.is_file():
            problems.append(Problem(str(file), f"listed in {MANIFEST} but missing"))
        elif file.stat().st_size != size or hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            problems.append(Problem(str(file), f"no longer matches {MANIFEST} (SHA-256 differs): "
                                               "changed after the build"))
    return problems
