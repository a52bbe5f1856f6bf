"""ADVS of the pharmaverse study against admiral's (pharmaverseadam), record by record."""

from __future__ import annotations

from pharmaverse import assert_matches, reference

KEYS = ["USUBJID", "PARAMCD", "BASETYPE", "ADT", "AVISITN", "VISITNUM", "ATPTN", "DTYPE"]
# Reference variables we do not derive, each with its reason (none: every variable is built).
NOT_DERIVED: dict[str, str] = {}


def test_advs_matches_admiral(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADVS"], reference("ADVS")
    assert len(ours) == len(ref)
    assert_matches(ours, ref, KEYS, NOT_DERIVED)
