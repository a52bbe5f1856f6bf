"""ADPP of the pharmaverse study against admiral's (pharmaverseadam): one record per PP record,
every variable of the reference compared with 0 differences."""

from __future__ import annotations

from pharmaverse import differences, reference

KEYS = ["USUBJID", "SRCSEQ"]  # SRCSEQ = PPSEQ
NOT_DERIVED: dict[str, str] = {}


def test_adpp_matches_the_reference(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADPP"], reference("ADPP")
    ref = ref.assign(SRCVAR=ref["SRCDOM"] + ref["SRCVAR"])  # admiral writes SEQ for --SEQ: not a variable of SRCDOM
    assert sorted(set(ref.columns) - set(ours.columns)) == sorted(NOT_DERIVED)
    assert len(ours) == len(ref) == 2688
    diff = differences(ours, ref, KEYS)
    assert diff["_records_only_in_ours"] == diff["_records_only_in_ref"] == 0
    assert {v: n for v, n in diff.items() if n} == {}
    assert len(diff) - 2 == len(ref.columns) - len(KEYS)


def test_adpp_aucall_groups(pharmaverse_adam):
    ours = pharmaverse_adam["ADPP"]
    auc = ours[ours["PARAMCD"] == "AUCALL"]
    assert ((auc["AVAL"] < 19) == (auc["AVALCAT1"] == "<19")).all()
    assert ours.loc[ours["PARAMCD"] != "AUCALL", "AVALCA1N"].isna().all()
