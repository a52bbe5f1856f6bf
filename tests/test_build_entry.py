"""Entry points of `submit build`: an existing SDTM package (--sdtm) in any format and text encoding,
stages that run only where the study has their specs, and the usage errors around them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from submit.cli import main
from submit.dataset_io import read_dataset
from submit.errors import InputError
from submit.project import Specs
from submit.sdtm.package_input import take_sdtm
from submit.xpt import XptDataset, XptVariable, write_xpt

from conftest import ADAM_DIR, SDTM_DIR, SPECS


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


# ---------------------------------------------------------------------------------- text encoding
TITLE = "Étude de phase 2 du sponsor’s"  # é and the typographic apostrophe: 0xC9 and 0x92 in cp1252


def cp1252_xpt(path: Path, value_bytes: bytes = TITLE.encode("cp1252"), studyid: str = "S1") -> Path:
    """A TS-like XPT whose TSVAL bytes are cp1252, as a sponsor's SAS session on Windows writes it:
    written in ASCII with a placeholder of the same length, whose bytes are then replaced."""
    placeholder = "X" * len(value_bytes)
    frame = pd.DataFrame({"STUDYID": [studyid], "TSPARMCD": ["TITLE"], "TSVAL": [placeholder]})
    meta = XptDataset(path.stem.upper(), "Trial Summary", (XptVariable("STUDYID", "Study Identifier", "char"),
                                              XptVariable("TSPARMCD", "Trial Summary Parameter Short Name", "char", 8),
                                              XptVariable("TSVAL", "Parameter Value", "char", 40)))
    write_xpt(frame, meta, path, created=dt.date(2024, 1, 1))
    data = path.read_bytes()
    assert data.count(placeholder.encode()) == 1
    path.write_bytes(data.replace(placeholder.encode(), value_bytes))
    return path


def test_a_cp1252_xpt_is_detected_and_reads_with_its_characters(tmp_path):
    df, meta = read_dataset(cp1252_xpt(tmp_path / "ts.xpt"))
    assert df["TSVAL"].iloc[0] == TITLE
    assert meta.encoding == "cp1252"


def test_a_declared_encoding_is_used_as_declared(tmp_path):
    path = cp1252_xpt(tmp_path / "ts.xpt")
    df, meta = read_dataset(path, encoding="latin-1")
    assert df["TSVAL"].iloc[0] == "Étude de phase 2 du sponsor\x92s"  # Latin-1 has no typographic apostrophe
    with pytest.raises(InputError, match="ts.xpt") as err:
        read_dataset(path, encoding="utf-8")
    assert "declared encoding" in str(err.value)


def test_an_undecodable_file_is_an_input_error_naming_it(tmp_path):
    path = cp1252_xpt(tmp_path / "ts.xpt", value_bytes=b"\xc9tude\x81")  # 0x81 is no cp1252 character
    with pytest.raises(InputError) as err:
        read_dataset(path)
    assert str(path) in str(err.value) and "--encoding" in str(err.value)
    with pytest.raises(InputError, match="not an encoding name"):
        read_dataset(path, encoding="no-such-encoding")


def test_a_utf8_csv_and_a_cp1252_csv_read_alike(tmp_path):
    text = "STUDYID,TSVAL\nS1,Étude’s\n"
    (tmp_path / "a.csv").write_text(text, encoding="utf-8")
    (tmp_path / "b.csv").write_bytes(text.encode("cp1252"))
    (a, ma), (b, mb) = read_dataset(tmp_path / "a.csv", as_text=True), read_dataset(tmp_path / "b.csv", as_text=True)
    assert a.equals(b) and a["TSVAL"].iloc[0] == "Étude’s"
    assert (ma.encoding, mb.encoding) == ("utf-8", "cp1252")


# ------------------------------------------------------------------------------ --sdtm to ADaM
def test_adam_from_the_sdtm_xpts_equals_adam_from_raw(default_sdtm, default_adam, study, tmp_path):
    """The SDTM package written by a raw build, read back as an input, gives the same ADaM bytes."""
    from submit.adam.build import build_adam  # noqa: PLC0415

    _, sdtm_root = default_sdtm
    taken = take_sdtm(sdtm_root / SDTM_DIR, SPECS / "sdtm", study, tmp_path)
    for path in sorted((sdtm_root / SDTM_DIR).glob("*.xpt")):  # conformed to the same spec: unchanged
        assert (tmp_path / SDTM_DIR / path.name).read_bytes() == path.read_bytes(), path.name
    build_adam(SPECS / "adam", taken.domains, study, tmp_path)
    expected = sorted((default_adam[1] / ADAM_DIR).glob("*.xpt"))
    assert [p.name for p in expected] == sorted(p.name for p in (tmp_path / ADAM_DIR).glob("*.xpt"))
    for path in expected:
        assert (tmp_path / ADAM_DIR / path.name).read_bytes() == path.read_bytes(), path.name
    inventory = pd.read_csv(tmp_path / "qc" / "sdtm_input.csv")
    assert set(inventory["dataset"]) >= {"DM", "SUPPDM", "RELREC"} and set(inventory["encoding"]) == {"utf-8"}


def test_an_input_unlike_the_spec_lists_every_mismatch(default_sdtm, study, tmp_path):
    _, sdtm_root = default_sdtm
    given = tmp_path / "given"
    shutil.copytree(sdtm_root / SDTM_DIR, given)
    (given / "tu.xpt").unlink()
    dm, _ = read_dataset(given / "dm.xpt", as_text=True)
    dm.drop(columns=["ACTARMUD"]).assign(EXTRA="x").to_parquet(given / "dm.parquet")
    (given / "dm.xpt").unlink()
    with pytest.raises(InputError) as err:
        take_sdtm(given, SPECS / "sdtm", study, tmp_path / "out")
    text = str(err.value)
    # A dataset of the spec absent from the input is no mismatch: a domain without records is not
    # submitted (its define.xml entry is left out); the variables still are.
    assert "TU" not in text
    assert "DM.ACTARMUD is in the SDTM spec but not in the data" in text and "dm.parquet" in text
    assert "DM.EXTRA is not a variable of DM" in text


# --------------------------------------------------------------- studies with some stages only
@pytest.fixture
def sdtm_only_study(tmp_path) -> Path:
    """MT103-206's specs without adam/, tlf/ and the simulator: a study with SDTM specs alone."""
    folder = tmp_path / "study"
    shutil.copytree(SPECS, folder, ignore=shutil.ignore_patterns("adam", "tlf", "simulation.yaml"))
    return folder


def test_a_study_with_sdtm_specs_alone_builds_sdtm_define_and_qc(sdtm_only_study, default_sdtm, tmp_path):
    _, sdtm_root = default_sdtm
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--specs", str(sdtm_only_study), "build", "--sdtm",
                                                       str(sdtm_root / SDTM_DIR), "--out", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    assert "[1/6] read the SDTM package, conform it to the SDTM spec and write XPT" in result.stderr
    assert "write Dataset-JSON 1.1 beside the XPT done" in result.stderr
    assert "write the reviewer's guides (SDTM) done" in result.stderr
    assert "derive ADaM" not in result.stderr and "TLF" not in result.stderr.replace("no ADaM, ADaM define.xml or TLFs", "")
    assert "write and check define.xml (SDTM) done" in result.stderr
    sdtm = out / SDTM_DIR
    assert (sdtm / "define.xml").is_file() and (sdtm / "dm.xpt").read_bytes() == (sdtm_root / SDTM_DIR / "dm.xpt").read_bytes()
    assert not (out / "tlf").exists() and not (out / ADAM_DIR).exists() and not (out / "raw").exists()
    report = json.loads((out / "qc" / "validation.json").read_text())
    assert "SUB-FDA-004" not in {i["rule"] for i in report.get("issues", [])}  # no ADSL expected
    paths = {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert "qc/validation.json" in paths and not any("analysis" in p for p in paths)
    assert f"{SDTM_DIR}/csdrg.docx" in paths


def test_without_raw_sdtm_or_simulator_the_build_says_what_to_give(sdtm_only_study, tmp_path):
    result = run("--specs", sdtm_only_study, "build", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "no simulator" in result.output and "--raw DIR" in result.output and "--sdtm DIR" in result.output
    assert not (tmp_path / "out" / "m5").exists()


def test_raw_and_sdtm_are_exclusive(tmp_path):
    (tmp_path / "a").mkdir()
    result = run("build", "--raw", tmp_path / "a", "--sdtm", tmp_path / "a", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "--raw or --sdtm, not both" in result.output


def test_build_help_documents_sdtm():
    text = run("build", "--help").output
    assert "--sdtm" in text and "--encoding" in text and "define.xml" in text


def test_sdtm_without_specs_is_copied_and_an_issue_without_a_row_is_reported(default_sdtm, study, tmp_path):
    """A study with no SDTM specs takes the XPTs as given (here a cp1252 one, not ASCII) and fails
    validation on them; errors with and without a row must be reported, not crash the build
    (regression: `int(row) if row == row` on pd.NA raised "boolean value of NA is ambiguous")."""
    _, sdtm_root = default_sdtm
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(SPECS / "study.yaml", folder / "study.yaml")
    given = tmp_path / "given"
    shutil.copytree(sdtm_root / SDTM_DIR, given)
    (given / "ts.xpt").unlink()  # an error without a row: TS missing
    # errors with a row: non-ASCII text without an ASCII form (an accent alone would be transliterated)
    cp1252_xpt(given / "xx.xpt", "Co\u00fbt 5 \u20ac".encode("cp1252"), studyid=study.study.id)
    out = tmp_path / "out"
    result = run("--specs", folder, "build", "--sdtm", given, "--out", out)
    assert result.exit_code == 1, result.output
    assert "SUB-FDA-001" in result.output  # Missing TS, no row
    assert "xx" in result.output.lower() and "row 1" in result.output  # SUB-XPT-007 on the euro sign
    assert not (out / "m5").exists()


# ------------------------------------------------------------------ SDTM conform: nothing by accident
def test_a_spec_variable_the_mapping_does_not_compute_is_refused(default_raw, schema, study, tmp_path):
    """SDTM conform names the mapping file and every variable it leaves out (it used to add them empty)."""
    from submit.raw.reader import read_raw  # noqa: PLC0415
    from submit.sdtm.build import build_sdtm  # noqa: PLC0415

    shutil.copytree(SPECS, tmp_path / "study")
    spec = tmp_path / "study" / "sdtm"
    tu = spec / "mapping" / "tu.yaml"
    tu.write_text("\n".join(line for line in tu.read_text().splitlines()
                            if not line.strip().startswith(("TULNKGRP:", "TUMETHOD:"))) + "\n")
    with pytest.raises(InputError) as err:
        build_sdtm(spec, read_raw(default_raw, schema, study).frames, study, tmp_path / "out")
    text = str(err.value)
    assert "tu.yaml" in text and "TU.TULNKGRP is in the spec but no algorithm maps it" in text
    assert "TU.TUMETHOD" in text
