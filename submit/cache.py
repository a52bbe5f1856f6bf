"""The user's cache folder of results that are pure functions of file bytes (parsed CT, validation
reports): `$SUBMIT_CACHE`, else `$XDG_CACHE_HOME/submit`, else `~/.cache/submit`. Entries are
pickles named by a SHA-256 of everything they depend on, written atomically; a missing, unreadable
or unwritable entry only means computing again."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

log = logging.getLogger("submit.cache")
CACHE_ENV = "SUBMIT_CACHE"


def cache_root() -> Path | None:
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root)
    try:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "submit"
    except RuntimeError:  # no home folder: no cache
        return None


def load_entry(path: Path | None):
    """The object cached at `path`, None when there is none or it cannot be read."""
    if path is None or not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())  # noqa: S301 (the user's own cache)
    except Exception:  # noqa: BLE001 (a truncated or foreign file: compute instead)
        log.debug("ignoring the unreadable cache entry %s", path)
        return None


def store_entry(path: Path | None, value) -> None:
    if path is None:
        return
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a parallel run reads a whole file or none
    except OSError:
        log.debug("cache entry %s not writable", path)
