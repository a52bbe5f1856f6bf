"""Validation reports cached by the SHA-256 of what they depend on (issue 19): an unchanged package
is not read again, a changed byte is."""

from __future__ import annotations

import shutil

import pytest

import submit.qc.validate as validate_module
from submit.qc.validate import validate


def _not_read(*args, **kwargs):
    raise AssertionError("the package was read again")


def test_an_unchanged_package_comes_from_the_cache_a_changed_one_is_validated_again(default_sdtm, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setenv("SUBMIT_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "package"
    shutil.copytree(default_sdtm[1], root)
    first = validate(root, cache=True)
    assert len(list((tmp_path / "cache" / "validate").glob("*.pickle"))) == 1

    with monkeypatch.context() as patched:
        patched.setattr(validate_module, "read_package", _not_read)
        again = validate(root, cache=True, label="again")
    assert again.root == "again" and again.rules == first.rules
    assert again.issues.equals(first.issues) and again.datasets.equals(first.datasets)
    assert (again.notes, again.sources, again.package_notes) == (first.notes, first.sources, first.package_notes)

    dm = next(root.rglob("dm.xpt"))
    dm.write_bytes(dm.read_bytes().replace(b"Demographics", b"Demographicz", 1))
    monkeypatch.setattr(validate_module, "read_package", _not_read)
    with pytest.raises(AssertionError, match="read again"):
        validate(root, cache=True)
    with pytest.raises(AssertionError, match="read again"):
        validate(root, cache=False)
