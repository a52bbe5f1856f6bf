"""Fault injection: a raw extract with one kind of bad input each, built through the CLI into an
--out that holds an earlier package.

Each fault asserts what a user sees: exit code 2, every problem in one run, each naming the user's
--raw file (never the staging copy), the line of the file as an editor counts it (header = line 1)
and the column; and the earlier package byte-identical afterwards. The expected lines come from
how the faulty file is written here (pandas writes one record per line after the header), not
from the reader. Then the extracts that must build: header-only datasets (no adverse events, no
deaths, no extramedullary disease, no transplants) and a reported term over 200 bytes, split into
SUPPAE per SDTMIG 4.5.3.2.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from submit.build import MANAGED
from submit.cli import main
from conftest import SDTM_DIR, SPECS


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--specs", str(SPECS), *map(str, args)])
    return result.exit_code, result.output


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def write(folder: Path, name: str, df: pd.DataFrame) -> None:
    df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def set_cell(folder: Path, name: str, row: int, column: str, value: str) -> None:
    df = read(folder, name)
    df.loc[row, column] = value
    write(folder, name, df)


def digests(out: Path) -> dict[str, str]:
    """SHA-256 of every file a build manages in `out`."""
    found = {}
    for name in MANAGED:
        root = out / name
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        found.update({str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})
    return found


@pytest.fixture(scope="module")
def earlier(tmp_path_factory, default_raw) -> tuple[Path, dict[str, str]]:
    """An --out holding a package built from the default extract, and its files' digests."""
    out = tmp_path_factory.mktemp("faults") / "out"
    code, output = run("-q", "build", "--raw", default_raw, "--out", out)
    assert code == 0, output
    return out, digests(out)


def line_of_row(row: int) -> int:
    """The file line of data row `row` (0-based) of a CSV written by pandas: header is line 1."""
    return row + 2


def _ae_rows_of_one_subject(raw: Path) -> tuple[int, int]:
    ae = read(raw, "ae")
    counts = ae.groupby("SUBJID").size()
    subject = counts[counts > 1].index[0]
    first, second = ae.index[ae["SUBJID"] == subject][:2]
    return int(first), int(second)


# Each fault: (change the extract in place) -> the problems expected as (file, line or None, column,
# words of the message).
Fault = Callable[[Path], list[tuple[str, int | None, str | None, str]]]


def non_ascii(raw):
    set_cell(raw, "ae", 2, "AEDECOD", "Naus\u00e9a")
    return [("ae.csv", line_of_row(2), "AEDECOD", "non-ASCII text 'Naus\u00e9a'")]


def line_break(raw):
    set_cell(raw, "ae", 3, "AEDECOD", "Nausea\nand vomiting")  # quoted: the record spans lines 5 and 6
    set_cell(raw, "ae", 5, "AEDECOD", "Tab\there")  # after the two-line record: line 8, not 7
    return [("ae.csv", line_of_row(3), "AEDECOD", "control character or line break"),
            ("ae.csv", line_of_row(5) + 1, "AEDECOD", "control character or line break")]


def too_long(raw):
    set_cell(raw, "ae", 1, "AEBODSYS", "x" * 250)  # AEBODSYS maps to AEBODSYS/AESOC: not split
    return [("ae.csv", line_of_row(1), "AEBODSYS", "text of 250 bytes is over the 200")]


def latin1(raw):
    text = (raw / "dm.csv").read_text(encoding="utf-8").replace(",Female,", ",F\u00e9male,", 1)
    (raw / "dm.csv").write_bytes(text.encode("latin-1"))
    row = int(read_lines(raw / "dm.csv", b"F\xe9male"))
    return [("dm.csv", row, "SEX", "byte 0xe9 is not utf-8")]


def read_lines(path: Path, needle: bytes) -> int:
    return next(i for i, line in enumerate(path.read_bytes().split(b"\n"), 1) if needle in line)


def impossible_date(raw):
    set_cell(raw, "ae", 0, "AESTDT", "2010-02-30")
    return [("ae.csv", line_of_row(0), "AESTDT", "impossible date '2010-02-30'")]


def other_date_format(raw):
    set_cell(raw, "ae", 1, "AEENDT", "10/26/2010")
    return [("ae.csv", line_of_row(1), "AEENDT", "not a partial date '10/26/2010'")]


def unknown_code(raw):
    set_cell(raw, "ae", 4, "AEOUT", "Resolved")
    return [("ae.csv", line_of_row(4), "AEOUT", "'Resolved' is not one of")]


def duplicate_key(raw):
    first, second = _ae_rows_of_one_subject(raw)
    ae = read(raw, "ae")
    set_cell(raw, "ae", second, "AESPID", ae.loc[first, "AESPID"])
    listed = f"lines {line_of_row(first)}, {line_of_row(second)}"
    return [("ae.csv", line_of_row(first), "SUBJID, AESPID", listed),
            ("ae.csv", line_of_row(second), "SUBJID, AESPID", listed)]


def orphan_subject(raw):
    set_cell(raw, "ae", 0, "SUBJID", "999-999")
    return [("ae.csv", line_of_row(0), "SUBJID", "subject '999-999' is not in dm")]


def missing_column(raw):
    write(raw, "ae", read(raw, "ae").drop(columns="AEOUT"))
    return [("ae.csv", None, "AEOUT", "column AEOUT is missing")]


def missing_file(raw):
    (raw / "hsct.csv").unlink()
    return [(raw.name, None, None, "dataset hsct is missing")]


def two_files(raw):
    return unknown_code(raw) + non_ascii_in_dm(raw)


def non_ascii_in_dm(raw):
    text = (raw / "dm.csv").read_text(encoding="utf-8").replace(",White,", ",White\u2014Irish,", 1)
    (raw / "dm.csv").write_text(text, encoding="utf-8")
    line = read_lines(raw / "dm.csv", "White\u2014Irish".encode())
    return [("dm.csv", line, "RACE", "non-ASCII text"), ("dm.csv", line, "RACE", "is not one of White")]


FAULTS = [non_ascii, line_break, too_long, latin1, impossible_date, other_date_format, unknown_code,
          duplicate_key, orphan_subject, missing_column, missing_file, two_files]


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS, ids=[f.__name__ for f in FAULTS])
def test_fault_is_reported_at_read_with_the_users_file_line_and_column(fault: Fault, tmp_path, default_raw, earlier):
    out, before = earlier
    raw = tmp_path / "extract"
    shutil.copytree(default_raw, raw)
    expected = fault(raw)
    code, output = run("build", "--raw", raw, "--out", out)
    assert code == 2, output
    problems = [line.strip() for line in output.splitlines() if line.startswith("  ")]
    assert ".build-" not in output
    assert len([p for p in problems if p.startswith(str(raw))]) == len(expected), output
    for file, line, column, words in expected:
        where = [str(raw / file) if file != raw.name else str(raw)]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        head = ", ".join(where) + ":"
        assert any(p.startswith(head) and words in p for p in problems), (head, words, output)
    assert digests(out) == before  # the earlier package is untouched


def header_only(raw: Path, *names: str) -> None:
    for name in names:
        write(raw, name, read(raw, name).iloc[0:0])


@pytest.mark.slow
def test_header_only_ae_death_emd_hsct_build(tmp_path, default_raw):
    raw = tmp_path / "extract"
    shutil.copytree(default_raw, raw)
    header_only(raw, "ae", "death", "emd", "hsct")
    code, output = run("-q", "build", "--raw", raw, "--out", tmp_path / "out")
    assert code == 0, output
    sdtm = tmp_path / "out" / SDTM_DIR
    # A domain without records is not submitted: no XPT and no ItemGroupDef in define.xml.
    assert not (sdtm / "ae.xpt").exists()
    define = (sdtm / "define.xml").read_text(encoding="utf-8")
    assert 'OID="IG.AE"' not in define and 'OID="IG.DM"' in define
    # The TEAE table still counts its "any TEAE" row: zero subjects in every column, no SOC rows.
    ard = pd.read_csv(tmp_path / "out" / "tlf" / "ard" / "14.3.1.2.csv")
    counts = ard[(ard["variable"] == "TEAE") & (ard["stat_name"] == "n")]
    assert len(counts) > 0 and (counts["stat"] == 0).all()
    assert "AEBODSYS" not in set(ard["variable"])


@pytest.mark.slow
def test_reported_term_over_200_bytes_is_split_into_suppae(tmp_path, default_raw):
    raw = tmp_path / "extract"
    shutil.copytree(default_raw, raw)
    words = "Infusion site reaction with marked erythema induration and tenderness along the catheter tract"
    term = " ".join([words] * 4)[:300].strip()
    assert len(term) == 300
    set_cell(raw, "ae", 0, "AETERM", term)
    ae = read(raw, "ae")
    subject, spid = ae.loc[0, "SUBJID"], ae.loc[0, "AESPID"]
    code, output = run("-q", "build", "--raw", raw, "--out", tmp_path / "out")
    assert code == 0, output
    sdtm = tmp_path / "out" / SDTM_DIR
    aes, _ = pyreadstat.read_xport(str(sdtm / "ae.xpt"))
    supp, _ = pyreadstat.read_xport(str(sdtm / "suppae.xpt"))
    parent = aes[aes["USUBJID"].str.endswith(subject) & (aes["AESPID"] == spid)]["AETERM"].item()
    assert len(parent) <= 200 and len(parent) > 150  # cut between words, within the first 200 characters
    assert term.startswith(parent)
    assert supp["QNAM"].tolist() == ["AETERM1"]
    assert supp["IDVAR"].tolist() == ["AESPID"] and supp["IDVARVAL"].tolist() == [spid]
    assert supp["QLABEL"].str.len().max() <= 40
    assert parent + " " + supp["QVAL"].item() == term
    define = (sdtm / "define.xml").read_text(encoding="utf-8")
    assert "WC.SUPPAE.AETERM1" in define and "WC.SUPPAE.AETERM2" not in define


@pytest.mark.slow
def test_validate_names_a_dataset_changed_after_the_build(tmp_path, earlier):
    out, _ = earlier
    package = tmp_path / "package"
    shutil.copytree(out, package)
    code, output = run("validate", package)
    assert "manifest.json" not in output, output
    xpt = package / SDTM_DIR / "ae.xpt"
    data = bytearray(xpt.read_bytes())
    data[-1] ^= 1  # one bit of the last record (padding or value): the size stays, the SHA-256 changes
    xpt.write_bytes(bytes(data))
    changed_code, changed = run("validate", package)
    assert changed_code == 1
    assert f"{xpt}: no longer matches manifest.json (SHA-256 differs)" in changed, changed
