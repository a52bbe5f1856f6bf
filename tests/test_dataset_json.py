"""Dataset-JSON 1.1 beside the XPT files: every dataset of the default study validates against
CDISC's JSON schema (vendored, checked with the `jsonschema` package), carries define.xml's OIDs,
reads back to the values pyreadstat reads from the XPT, and is written with the same bytes twice.

Expected values come from outside the writer: the CDISC schema, define.xml parsed here with lxml,
the XPT files read by pyreadstat, and hand-made values for the type rules of the specification."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner
from lxml import etree

from submit.cli import main
from submit.dataset_json import SCHEMA, read_dataset_json, write_dataset_json
from submit.define import write_define
from submit.project import adam_dir, sdtm_dir
from submit.xpt import XptDataset, XptVariable, write_xpt

REPO = Path(__file__).resolve().parents[1]
ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def define_oids(define: Path) -> dict[str, tuple[str, list[str], dict[str, int]]]:
    """Dataset -> (ItemGroupDef OID, ItemDef OIDs by variable order, KeySequence by ItemDef OID)."""
    root = etree.parse(str(define)).getroot()
    out = {}
    for group in root.iter(f"{ODM}ItemGroupDef"):
        refs = sorted(group.iter(f"{ODM}ItemRef"), key=lambda r: int(r.get("OrderNumber")))
        out[group.get("Name")] = (group.get("OID"), [r.get("ItemOID") for r in refs],
                                  {r.get("ItemOID"): int(r.get("KeySequence")) for r in refs if r.get("KeySequence")})
    return out


def assert_same_values(json_path: Path, xpt_path: Path) -> None:
    """The Dataset-JSON read back equals the XPT as pyreadstat reads it (SAS dates as numbers)."""
    expected, _ = pyreadstat.read_xport(str(xpt_path), disable_datetime_conversion=True)
    got = read_dataset_json(json_path)
    assert list(got.columns) == list(expected.columns), json_path.name
    assert len(got) == len(expected), json_path.name
    for name in expected.columns:
        want = expected[name]
        if pd.api.types.is_numeric_dtype(want):
            np.testing.assert_array_equal(pd.to_numeric(got[name]).to_numpy(dtype=float), want.to_numpy(dtype=float),
                                          err_msg=f"{json_path.name} {name}")
        else:
            assert got[name].tolist() == want.tolist(), f"{json_path.name} {name}"


@pytest.fixture(scope="module")
def folders(default_sdtm, default_adam, study, tmp_path_factory) -> list[Path]:
    """Copies of the default study's SDTM and ADaM XPT folders with their define.xml and Dataset-JSON."""
    root = tmp_path_factory.mktemp("dataset_json")
    out = []
    for (result, built), part, frames in ((default_sdtm, sdtm_dir(study), default_sdtm[0].domains),
                                          (default_adam, adam_dir(study), default_adam[0].datasets)):
        folder = root / part
        shutil.copytree(built / part, folder)
        write_define(result.spec, frames, folder, study)
        write_dataset_json(folder)
        out.append(folder)
    return out


def test_every_dataset_has_a_json_valid_against_the_cdisc_schema(folders):
    check = validator()
    for folder in folders:
        xpts = sorted(folder.glob("*.xpt"))
        assert xpts and {p.stem for p in folder.glob("*.json")} == {p.stem for p in xpts}
        for path in folder.glob("*.json"):
            errors = [e.message for e in check.iter_errors(json.loads(path.read_text(encoding="utf-8")))]
            assert not errors, f"{path.name}: {errors[:3]}"


def test_oids_and_keys_are_define_xmls(folders):
    for folder in folders:
        defined = define_oids(folder / "define.xml")
        study = etree.parse(str(folder / "define.xml")).getroot().find(f"{ODM}Study")
        for path in sorted(folder.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            group, items, keys = defined[doc["name"]]
            assert doc["itemGroupOID"] == group
            assert [c["itemOID"] for c in doc["columns"]] == items
            assert {c["itemOID"]: c["keySequence"] for c in doc["columns"] if "keySequence" in c} == keys
            assert doc["studyOID"] == study.get("OID")
            assert doc["metaDataVersionOID"] == study.find(f"{ODM}MetaDataVersion").get("OID")


def test_every_dataset_reads_back_to_the_xpt_values(folders):
    for folder in folders:
        for xpt in sorted(folder.glob("*.xpt")):
            assert_same_values(xpt.with_suffix(".json"), xpt)


def test_define_xml_leafs_keep_pointing_at_the_xpt(folders):
    for folder in folders:
        root = etree.parse(str(folder / "define.xml")).getroot()
        hrefs = [leaf.get(XLINK_HREF) for leaf in root.iter(f"{DEF}leaf") if leaf.get("ID", "").startswith("LF.")]
        assert hrefs and all(h.endswith(".xpt") for h in hrefs)


def test_adam_dates_and_decimals_as_the_specification_says(folders):
    """ADaM numeric dates: dataType date, targetDataType integer, ISO 8601 text (the specification's
    ADaM case); decimals as strings."""
    adsl = json.loads((folders[1] / "adsl.json").read_text(encoding="utf-8"))
    columns = {c["name"]: c for c in adsl["columns"]}
    assert columns["TRTSDT"]["dataType"] == "date" and columns["TRTSDT"]["targetDataType"] == "integer"
    assert columns["HEIGHTBL"]["dataType"] == "decimal" and columns["HEIGHTBL"]["targetDataType"] == "decimal"
    xpt, _ = pyreadstat.read_xport(str(folders[1] / "adsl.xpt"))  # dates as Python dates here
    at = list(columns).index("TRTSDT")
    first = next(i for i, v in enumerate(xpt["TRTSDT"]) if pd.notna(v))
    assert adsl["rows"][first][at] == xpt["TRTSDT"][first].strftime("%Y-%m-%d")
    assert all(isinstance(r[list(columns).index("HEIGHTBL")], (str, type(None))) for r in adsl["rows"])


def test_two_writes_give_the_same_bytes(folders, tmp_path):
    first = {p.name: p.read_bytes() for p in folders[1].glob("*.json")}
    again = tmp_path / "again"
    shutil.copytree(folders[1], again)
    for p in again.glob("*.json"):
        p.unlink()
    write_dataset_json(again)
    assert {p.name: p.read_bytes() for p in again.glob("*.json")} == first


def _tiny_folder(tmp_path: Path, values: dict[str, list], formats: dict[str, str], define_types: dict[str, str]) -> Path:
    """One XPT and a hand-written define.xml describing it (enough for the writer)."""
    variables = tuple(XptVariable(name, name, "char" if name == "USUBJID" else "num", format=formats.get(name, ""))
                      for name in values)
    write_xpt(pd.DataFrame(values), XptDataset("ADX", "Tiny", variables), tmp_path / "adx.xpt", dt.date(2024, 1, 2))
    items = "".join(f'<ItemRef ItemOID="IT.ADX.{n}" OrderNumber="{i}" Mandatory="No"/>' for i, n in enumerate(values, 1))
    defs = "".join(f'<ItemDef OID="IT.ADX.{n}" Name="{n}" DataType="{define_types[n]}"'
                   + (f' def:DisplayFormat="{formats[n]}"' if n in formats else "")
                   + f'><Description><TranslatedText>{n}</TranslatedText></Description></ItemDef>' for n in values)
    (tmp_path / "define.xml").write_text(
        '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" FileOID="DEF.T" CreationDateTime="2024-01-02T00:00:00" '
        'Originator="o" SourceSystem="s" SourceSystemVersion="1"><Study OID="ST.T"><MetaDataVersion OID="MDV.T">'
        f'<ItemGroupDef OID="IG.ADX" Name="ADX"><Description><TranslatedText>Tiny</TranslatedText></Description>{items}'
        '<def:leaf ID="LF.ADX" xlink:href="adx.xpt"/></ItemGroupDef>'
        f'{defs}</MetaDataVersion></Study></ODM>', encoding="utf-8")
    return tmp_path


def test_type_rules_on_hand_made_values(tmp_path):
    """Dates 0 and 366 are 1960-01-01 and 1961-01-01 (SAS day 0 is 1960-01-01), a datetime of
    3661 s is 01:01:01 on that day, 0.1 stays "0.1" (not 0.1000000000000000055...)."""
    folder = _tiny_folder(tmp_path, {"USUBJID": ["A", ""], "ADT": [0.0, 366.0], "ADTM": [3661.0, np.nan],
                                     "N": [3.0, np.nan], "X": [0.1, 1e-7]},
                          {"ADT": "DATE9.", "ADTM": "DATETIME20."},
                          {"USUBJID": "text", "ADT": "integer", "ADTM": "integer", "N": "integer", "X": "float"})
    write_dataset_json(folder, ndjson_min_records=2)
    doc = json.loads((folder / "adx.json").read_text(encoding="utf-8"))
    assert doc["rows"] == [["A", "1960-01-01", "1960-01-01T01:01:01", 3, "0.1"],
                           ["", "1961-01-01", None, None, "0.0000001"]]
    assert doc["datasetJSONCreationDateTime"] == "2024-01-02T00:00:00" and doc["records"] == 2
    assert not list(validator().iter_errors(doc))
    lines = (folder / "adx.ndjson").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {k: v for k, v in doc.items() if k != "rows"}
    assert [json.loads(line) for line in lines[1:]] == doc["rows"]
    for path in (folder / "adx.json", folder / "adx.ndjson"):
        assert_same_values(path, folder / "adx.xpt")


def test_a_fraction_in_an_integer_variable_is_refused_naming_it(tmp_path):
    from submit.errors import DataCheckError

    folder = _tiny_folder(tmp_path, {"USUBJID": ["A"], "N": [1.5]}, {}, {"USUBJID": "text", "N": "integer"})
    with pytest.raises(DataCheckError) as caught:
        write_dataset_json(folder)
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "N")]
    assert not (folder / "adx.json").exists()


def test_the_build_writes_them_by_default_and_lists_them_in_the_manifest(tmp_path):
    out = tmp_path / "out"
    args = ["--specs", str(REPO / "tests/studies/xan-tiny"), "build", "--raw", str(REPO / "tests/studies/xan-tiny-raw"),
            "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sdtm = out / "m5/datasets/xan-tiny/tabulations/sdtm"
    listed = {f["path"] for f in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]}
    xpts = sorted(sdtm.glob("*.xpt"))
    assert xpts and all(p.with_suffix(".json").relative_to(out).as_posix() in listed for p in xpts)
    result = CliRunner().invoke(main, [*args, "--formats", "xpt"])  # XPT only
    assert result.exit_code == 0, result.output
    assert not list(sdtm.glob("*.json"))
    result = CliRunner().invoke(main, [*args, "--formats", "json"])
    assert result.exit_code != 0 and "--formats" in result.output


def test_rows_written_in_blocks_give_the_same_bytes(tmp_path, monkeypatch):
    """Blocks of 1 and 2 rows (the last one short) write what one block writes, with repeated
    values and text escaped as json escapes it."""
    import submit.dataset_json as dataset_json

    values = {"USUBJID": ['A "q"', "b\\", "A \"q\"", ""], "N": [1.0, np.nan, 1.0, -3.0],
              "X": [0.0, 162.9, np.nan, 1e-7]}
    folder = _tiny_folder(tmp_path, values, {}, {"USUBJID": "text", "N": "integer", "X": "float"})
    written = {}
    for block in (50_000, 2, 1):
        monkeypatch.setattr(dataset_json, "ROWS_PER_BLOCK", block)
        write_dataset_json(folder, ndjson_min_records=2)
        written[block] = [(folder / name).read_bytes() for name in ("adx.json", "adx.ndjson")]
    assert written[1] == written[2] == written[50_000]
    doc = json.loads(written[1][0])
    assert doc["rows"] == [['A "q"', 1, "0"], ["b\\", None, "162.9"], ['A "q"', 1, None], ["", -3, "0.0000001"]]
    assert written[1][0] == dataset_json._dumps(doc) + b"\n"
