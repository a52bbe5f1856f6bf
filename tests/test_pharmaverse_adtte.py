"""ADTTE of the pharmaverse study against pharmaverseadam's adtte_onco (admiralonco's ADTTE
template: OS, PFS, duration of response): the same records and every variable equal."""

from __future__ import annotations

from pharmaverse import assert_matches, reference

KEYS = ["USUBJID", "PARAMCD"]
# reference variables we do not derive, each with its reason (none: every one is derived)
NOT_DERIVED: dict[str, str] = {}


def test_adtte_equals_admiral(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADTTE"], reference("ADTTE")
    assert len(ours) == len(ref) == 512
    assert_matches(ours, ref, KEYS, NOT_DERIVED)


def test_adtte_by_hand(pharmaverse_adam):
    """01-701-1133: randomized Oct 28 2012, PR Nov 18, PD Dec 30: PFS 64 days, response lasting 43."""
    t = pharmaverse_adam["ADTTE"]
    one = t[t["USUBJID"] == "01-701-1133"].set_index("PARAMCD")
    assert one.loc["PFS", "AVAL"] == 64 and one.loc["PFS", "CNSR"] == 0
    assert one.loc["RSD", "AVAL"] == 43 and one.loc["RSD", "EVNTDESC"] == "Disease Progression"
