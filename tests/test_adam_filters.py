"""The declarative record filters of the ADaM pipelines, one tiny frame per behaviour."""

from __future__ import annotations

import pandas as pd
import pytest

from submit.adam.filters import select
from submit.errors import InputError

DF = pd.DataFrame({
    "USUBJID": ["A", "B", "C", "D"],
    "AETERM": ["Skin rash", "RASH", None, "Headache"],
    "AVAL": [1.0, 5.0, None, 9.0],
    "BASE": [2.0, 5.0, 1.0, 3.0],
    "ADT": pd.to_datetime(["2014-01-01", "2014-01-05", None, "2014-02-01"]),
    "TRTSDT": pd.to_datetime(["2014-01-02", "2014-01-02", "2014-01-02", "2014-01-02"]),
})


def ids(filter: dict) -> list[str]:
    return select(DF, filter, "test").USUBJID.tolist()


@pytest.mark.parametrize("filter, expected", [
    ({"USUBJID": "B"}, ["B"]),
    ({"USUBJID": ["A", "D"]}, ["A", "D"]),
    ({"AETERM": {"not": ["RASH"]}}, ["A", "C", "D"]),          # a missing value is not in the list
    ({"AETERM": {"present": False}}, ["C"]),
    ({"AVAL": {"ge": 1, "lt": 9}}, ["A", "B"]),                 # both bounds, missing fails
    ({"AVAL": {"ne": 5}}, ["A", "D"]),
    ({"AVAL": {"gt": {"var": "BASE"}}}, ["D"]),                 # two variables of one record
    ({"AVAL": {"eq": {"var": "BASE"}}}, ["B"]),
    ({"ADT": {"lt": {"var": "TRTSDT"}}}, ["A"]),                # dates against a date variable
    ({"ADT": {"ge": "2014-01-05"}}, ["B", "D"]),                # ... and against a date
    ({"AETERM": {"contains": "rash"}}, ["A"]),
    ({"AETERM": {"contains": "rash", "case": False}}, ["A", "B"]),
    ({"AETERM": {"starts_with": "Head"}}, ["D"]),
    ({"AETERM": {"ends_with": "ASH"}}, ["B"]),
    ({"AETERM": {"matches": "^(Skin|Head)"}}, ["A", "D"]),
    ({"any": [{"USUBJID": "A"}, {"AVAL": {"gt": 8}}]}, ["A", "D"]),
    ({"all": [{"AVAL": {"present": True}}, {"BASE": {"le": 3}}]}, ["A", "D"]),
    ({"not": {"USUBJID": ["A", "B"]}}, ["C", "D"]),
    ({"not": {"any": [{"USUBJID": "A"}, {"AETERM": {"present": False}}]}, "AVAL": {"lt": 9}}, ["B"]),
])
def test_filter(filter, expected):
    assert ids(filter) == expected


@pytest.mark.parametrize("filter, says", [
    ({"NOPE": 1}, "'NOPE', which is not a variable"),
    ({"AVAL": {"between": [1, 2]}}, "expected not, present"),
    ({"any": []}, "non-empty list"),
    ({"AVAL": {"gt": {"var": "NOPE"}}}, "existing variable"),
])
def test_a_malformed_filter_names_the_derivation_and_the_problem(filter, says):
    with pytest.raises(InputError) as err:
        select(DF, filter, "derive_x")
    assert "derive_x" in str(err.value) and says in str(err.value)
