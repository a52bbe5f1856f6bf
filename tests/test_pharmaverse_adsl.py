"""ADSL of the pharmaverse study, derived by specs/pharmaverse from pharmaverse's SDTM, against
admiral's ADSL (pharmaverseadam): the same subjects and every variable equal on every record."""

from __future__ import annotations

from pharmaverse import assert_matches, reference

# Variables of admiral's ADSL that the spec does not derive, each with its reason (none left).
NOT_DERIVED: dict[str, str] = {}


def test_adsl_has_the_reference_variables(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADSL"], reference("ADSL")
    assert set(ref.columns) - set(ours.columns) == set(NOT_DERIVED)
    assert list(ours.columns) == [c for c in ref.columns if c not in NOT_DERIVED]  # the reference's order


def test_adsl_equals_admirals_value_for_value(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADSL"], reference("ADSL")
    assert len(ours) == len(ref) == 306
    assert_matches(ours, ref, ["USUBJID"], NOT_DERIVED)
