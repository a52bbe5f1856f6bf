"""ADVS of the pharmaverse study against admiral's (pharmaverseadam), record by record."""

from __future__ import annotations

from pharmaverse import differences, reference

KEYS = ["USUBJID", "PARAMCD", "BASETYPE", "ADT", "AVISITN", "VISITNUM", "ATPTN", "DTYPE"]
# Reference variables we do not derive, each with its reason (none: every variable is built).
NOT_DERIVED: dict[str, str] = {}


def test_advs_matches_admiral(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADVS"], reference("ADVS")
    assert sorted(set(ref.columns) - set(ours.columns)) == sorted(NOT_DERIVED)
    diff = differences(ours, ref, KEYS)
    assert diff["_records_only_in_ours"] == 0 and diff["_records_only_in_ref"] == 0, diff
    assert {v: n for v, n in diff.items() if n} == {}
    assert len(ours) == len(ref) and len(diff) - 2 == len(ref.columns) - len(KEYS)
