"""`submit spec import` on the specs as shipped: the SDTM spec of the default study comes in parts
(parts/valuelevel/); a workbook exported from it imports to --out, or back into the study folder,
and reads back as the same spec."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from conftest import SPECS
from submit.cli import main
from submit.config import load_study_config
from submit.spec.store import load_spec


def run(specs, *args):
    result = CliRunner().invoke(main, ["--specs", str(specs), *map(str, args)])
    return result.exit_code, result.output


def test_import_of_a_spec_in_parts_to_out_and_in_place(tmp_path):
    assert list((SPECS / "sdtm" / "parts").glob("*/*.csv"))  # the premise: shipped in parts
    ct = load_study_config(SPECS / "study.yaml").standards.ct
    shipped = load_spec(SPECS / "sdtm", ct_version=ct)
    book = tmp_path / "sdtm.xlsx"
    code, output = run(SPECS, "spec", "export", "--xlsx", book)
    assert code == 0, output

    code, output = run(SPECS, "spec", "import", book, "--out", tmp_path / "imported")
    assert code == 0, output
    assert load_spec(tmp_path / "imported", ct_version=ct) == shipped

    study = tmp_path / "study"
    shutil.copytree(SPECS, study)
    code, output = run(study, "spec", "import", book)
    assert code == 0, output
    assert not (study / "sdtm" / "parts").exists()  # merged: no row would be read twice
    assert load_spec(study / "sdtm", ct_version=ct) == shipped
