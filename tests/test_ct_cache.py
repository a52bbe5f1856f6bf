"""The parsed CDISC CT is cached by the hash of the CT file; a stale, corrupt or unwritable cache
only means parsing again (issue 19)."""

from __future__ import annotations

import gzip

from submit.spec.ct import SHIPPED_CT, read_ct_file

CT_FILE = SHIPPED_CT / "adam-ct-2025-03-28.txt.gz"  # the small file: the cache logic is the same


def _params(codelists, terms) -> list[str]:
    # ADaM CT 2025-03-28, codelist C81223 (DATEFL, Date Imputation Flag): D, M, Y
    return sorted(terms[terms["codelist"] == "C81223"]["value"])


def test_second_read_comes_from_the_cache_with_the_same_content(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBMIT_CACHE", str(tmp_path))
    first = read_ct_file(CT_FILE)
    cached = list((tmp_path / "ct").glob("*.pickle"))
    assert len(cached) == 1
    second = read_ct_file(CT_FILE)
    assert _params(*first) == _params(*second) == ["D", "M", "Y"]
    assert first[0].equals(second[0]) and first[1].equals(second[1])


def test_a_changed_file_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBMIT_CACHE", str(tmp_path / "cache"))
    read_ct_file(CT_FILE)
    text = CT_FILE.read_bytes()
    lines = gzip.decompress(text).decode("utf-8").splitlines(keepends=True)
    edited = tmp_path / "adam-ct-2025-03-28.txt"
    # drop the term "Y" of DATEFL: the cache must not hand back the shipped file's terms
    edited.write_text("".join(line for line in lines if not (line.split("\t")[1:2] == ["C81223"]
                                                            and line.split("\t")[4] == "Y")), encoding="utf-8")
    _, terms = read_ct_file(edited)
    assert sorted(terms[terms["codelist"] == "C81223"]["value"]) == ["D", "M"]


def test_corrupt_or_unwritable_cache_falls_back_to_parsing(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBMIT_CACHE", str(tmp_path))
    read_ct_file(CT_FILE)
    for cached in (tmp_path / "ct").glob("*.pickle"):
        cached.write_bytes(b"not a pickle")
    assert _params(*read_ct_file(CT_FILE)) == ["D", "M", "Y"]
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("SUBMIT_CACHE", str(blocker))  # the cache folder cannot be made under a file
    assert _params(*read_ct_file(CT_FILE)) == ["D", "M", "Y"]
