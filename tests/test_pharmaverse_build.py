"""The pharmaverse study end to end: `submit --specs specs/pharmaverse build --sdtm DIR` on the SDTM
as pharmaverse publishes it (Parquet, labels in the field metadata, no define.xml, no SDTM specs).

What the build solves: the SDTM define.xml is written from the package's own attributes (FDA
rejection criterion 1736 otherwise), TS's typographic apostrophes are transliterated to ASCII and
listed in qc/sdtm_transliteration.csv, the ADaM is derived, written and described by its
define.xml (ADSL with no conformance issue). What still refuses publication are defects of the
given SDTM itself, which the build does not correct silently: study days (--DY) that disagree with
--DTC and RFSTDTC in AE, EG and TR (SUB-SDTM-009), and TS without a study start date SSTDTC
(SUB-FDA-002, FDA rejection criterion 1734); and the open issues of other ADaM datasets listed
below. The tests pin exactly these."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from pharmaverse import SPECS, export_sdtm

pytestmark = pytest.mark.slow

KNOWN_INPUT_DEFECTS = {("SUB-SDTM-009", "AE"), ("SUB-SDTM-009", "EG"), ("SUB-SDTM-009", "TR"),
                       ("SUB-FDA-002", "TS")}
# Conformance errors of ADaM datasets, open with their owners (to be fixed there, then removed here):
# ADRS records whose RANDDT is not ADSL's (parameter records created without it); ADPC and ADPP
# SRCVAR naming a variable that is not in SRCDOM.
OPEN_ADAM_ISSUES = {("SUB-ADAM-005", "ADRS"), ("SUB-ADAM-008", "ADPC"), ("SUB-ADAM-008", "ADPP")}


@pytest.fixture(scope="module")
def sdtm_dir(tmp_path_factory):
    return export_sdtm(tmp_path_factory.mktemp("pharmaverse_sdtm"))


@pytest.fixture(scope="module")
def package(sdtm_dir, tmp_path_factory):
    """The package's stages run in process (as the build runs them), with the validation report."""
    from submit.adam.build import build_adam
    from submit.define import write_define
    from submit.project import Specs, adam_dir, sdtm_dir as sdtm_folder
    from submit.qc.validate import validate_package
    from submit.sdtm.package_input import take_sdtm

    specs = Specs(SPECS)
    root = tmp_path_factory.mktemp("pharmaverse_package")
    sdtm = take_sdtm(sdtm_dir, None, specs.study, root)
    adam = build_adam(SPECS / "adam", sdtm.domains, specs.study, root)
    write_define(sdtm.spec, sdtm.domains, root / sdtm_folder(specs.study), specs.study)  # raises when not valid
    write_define(adam.spec, adam.datasets, root / adam_dir(specs.study), specs.study)
    return root, specs, sdtm, adam, validate_package(root, specs, label="pharmaverse")


def test_sdtm_define_from_the_packages_own_attributes(package):
    root, specs, sdtm, _, _ = package
    from submit.project import sdtm_dir as sdtm_folder

    folder = root / sdtm_folder(specs.study)
    assert (folder / "define.xml").is_file() and (folder / "define.html").is_file()
    assert {p.stem.upper() for p in folder.glob("*.xpt")} == set(sdtm.domains)
    dm = {v.name: v for v in sdtm.spec.variables if v.dataset == "DM"}
    assert dm["USUBJID"].label == "Unique Subject Identifier" and dm["USUBJID"].origin == "Not Available"
    assert dm["AGE"].data_type == "integer" and dm["RFSTDTC"].data_type == "datetime"
    sv = next(d for d in sdtm.spec.datasets if d.name == "SV")
    assert sv.keys == ("STUDYID", "USUBJID", "VISITNUM", "SVSTDTC") and sv.cls == "SPECIAL PURPOSE"
    assert (root / "qc" / "sdtm_spec_from_input" / "Variables.csv").is_file()


def test_typographic_text_transliterated_and_listed(package):
    root, *_ = package
    changes = pd.read_csv(root / "qc" / "sdtm_transliteration.csv")
    assert changes["file"].tolist() == ["ts.parquet"] * 3 and set(changes["variable"]) == {"TSVAL"}
    assert changes["before"].str.contains("Alzheimer\u2019s").all()
    assert (changes["after"] == changes["before"].str.replace("\u2019", "'")).all()


def test_adam_is_written_and_conformant(package):
    root, specs, _, adam, report = package
    from submit.project import adam_dir

    folder = root / adam_dir(specs.study)
    assert {p.stem.upper() for p in folder.glob("*.xpt")} == set(adam.datasets) >= {"ADSL"}
    assert (folder / "define.xml").is_file()
    issues = report.issues[report.issues["dataset"].isin(list(adam.datasets))]
    assert not (issues["dataset"] == "ADSL").any()
    assert set(zip(issues["rule"], issues["dataset"])) == OPEN_ADAM_ISSUES


def test_only_the_given_sdtms_own_defects_remain(package):
    *_, report = package
    errors = report.issues[report.issues["severity"] == "Error"]
    assert set(zip(errors["rule"], errors["dataset"])) == KNOWN_INPUT_DEFECTS | OPEN_ADAM_ISSUES


def test_the_cli_refuses_to_publish_and_says_why(sdtm_dir, tmp_path):
    from submit.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--specs", str(SPECS), "build", "--sdtm", str(sdtm_dir), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "nothing was published" in result.output and "SUB-SDTM-009" in result.output
    assert not (out / "m5").exists() and not (out / "manifest.json").exists()
