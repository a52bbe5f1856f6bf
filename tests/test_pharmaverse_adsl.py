"""ADSL of the pharmaverse study, derived by specs/pharmaverse from pharmaverse's SDTM, against
admiral's ADSL (pharmaverseadam): the same subjects and every variable equal on every record."""

from __future__ import annotations

from pharmaverse import differences, reference

# Variables of admiral's ADSL that the spec does not derive, each with its reason (none left).
NOT_DERIVED: dict[str, str] = {}


def test_adsl_has_the_reference_variables(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADSL"], reference("ADSL")
    assert set(ref.columns) - set(ours.columns) == set(NOT_DERIVED)
    assert list(ours.columns) == [c for c in ref.columns if c not in NOT_DERIVED]  # the reference's order


def test_adsl_equals_admirals_value_for_value(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADSL"], reference("ADSL")
    diff = differences(ours, ref, ["USUBJID"])
    assert diff.pop("_records_only_in_ours") == 0 and diff.pop("_records_only_in_ref") == 0
    assert len(diff) == len(ref.columns) - 1 - len(NOT_DERIVED)  # every variable but the key compared
    assert {v: n for v, n in diff.items() if n} == {}
    assert len(ours) == len(ref) == 306
