"""ADRS of the pharmaverse study against pharmaverseadam's adrs_onco (admiralonco's ADRS template
on the RECIST 1.1 RS/TU): the same records by key and every variable equal, except the records
listed in specs/pharmaverse/reference_differences.yaml (which must still differ)."""

from __future__ import annotations

from pharmaverse import SPECS, differences, reference
import pandas as pd
import yaml

KEYS = ["USUBJID", "PARAMCD", "ADT", "RSSEQ"]
# reference variables we do not derive, each with its reason (none: every one is derived)
NOT_DERIVED: dict[str, str] = {}
NOT_DERIVED_OF = {"ADRS": NOT_DERIVED}


def listed_differences(dataset: str) -> list[dict]:
    entries = yaml.safe_load((SPECS / "reference_differences.yaml").read_text(encoding="utf-8")) or []
    return [e for e in entries if e["dataset"] == dataset and "checked_by" not in e]  # the others: their own test


def split_listed(df: pd.DataFrame, dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records not listed, records listed) in reference_differences.yaml."""
    listed = pd.Series(False, index=df.index)
    for e in listed_differences(dataset):
        hit = pd.Series(True, index=df.index)
        for var, value in e["records"].items():
            hit &= df[var].astype(str) == str(value)
        listed |= hit
    return df[~listed], df[listed]


def compare(ours: pd.DataFrame, ref: pd.DataFrame, dataset: str, keys: list[str]) -> None:
    assert sorted(set(ref.columns) - set(ours.columns)) == sorted(NOT_DERIVED_OF[dataset])
    (ours_ok, ours_listed), (ref_ok, ref_listed) = split_listed(ours, dataset), split_listed(ref, dataset)
    diff = differences(ours_ok, ref_ok, keys)
    assert {k: v for k, v in diff.items() if v} == {}
    assert len(ours_listed) == len(ref_listed) == len(listed_differences(dataset))
    listed = differences(ours_listed, ref_listed, keys)
    assert listed["_records_only_in_ours"] + sum(v for k, v in listed.items() if not k.startswith("_")) > 0, \
        "a listed reference difference no longer differs: remove it from reference_differences.yaml"



def test_adrs_equals_admiral(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADRS"], reference("ADRS")
    assert len(ours) == len(ref) == 3694
    # admiral's template adds MDIS after merging RANDDT, leaving it missing there; an ADSL variable
    # holds the subject's ADSL value on every record (SUB-ADAM-005): compared with the subject's
    # RANDDT on its other reference records.
    mdis = ref["PARAMCD"] == "MDIS"
    assert ref.loc[mdis, "RANDDT"].isna().all()
    own = ref[~mdis].dropna(subset=["RANDDT"]).drop_duplicates("USUBJID").set_index("USUBJID")["RANDDT"]
    ref = ref.assign(RANDDT=ref["RANDDT"].where(~mdis, ref["USUBJID"].map(own)))
    compare(ours, ref, "ADRS", KEYS)


def test_adrs_endpoints_by_hand(pharmaverse_adam):
    """Subject 01-701-1118: SD, PR (Apr 23), NE, PR (Jun 4, 42 days later): the PR is confirmed
    across one NE, so the confirmed best response is PR on Apr 23."""
    ours = pharmaverse_adam["ADRS"]
    one = ours[ours["USUBJID"] == "01-701-1118"].set_index("PARAMCD")
    assert one.loc["CBOR", "AVALC"] == "PR" and str(one.loc["CBOR", "ADT"])[:10] == "2014-04-23"
    assert one.loc["CRSP", "AVALC"] == "Y" and one.loc["CBCP", "AVALC"] == "Y"
    assert one.loc["BOR", "AVALC"] == "PR" and one.loc["LSTA", "AVALC"] == "PR"


def test_every_difference_checked_elsewhere_names_an_existing_test():
    """reference_differences.yaml is the one list a reviewer reads: an entry checked by another test
    names that test, which must exist and name the entry's dataset."""
    entries = yaml.safe_load((SPECS / "reference_differences.yaml").read_text(encoding="utf-8"))
    for entry in (e for e in entries if "checked_by" in e):
        for name in entry["checked_by"].split(", "):
            path = SPECS.parents[1] / "tests" / name.removeprefix("tests/")
            assert path.is_file(), name
            assert any(d.strip() in path.read_text(encoding="utf-8") for d in entry["dataset"].split(",")), name
