"""MT103-206's outputs from generic analysis kinds equal those of the study-specific functions they
replaced (issue 15): every record of the baseline ARD (tests/fixtures/mt103-206-ard, written by the
build of c31bbb5) is in the new ARD with the same statistic and label, in the same order; the new
ARD holds no other record but the intended additions listed here. The listings' rows equal the
baseline's (tests/fixtures/mt103-206-listings)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ADAM_DIR, SPECS
from submit.tlf import load_shells
from submit.tlf.analysis import AdamData, XptFolder, analyze

FIXTURES = Path(__file__).parent / "fixtures" / "mt103-206-ard"
KEY = ["group", "group_level", "variable", "variable_level", "stat_name"]
# the kinds of issue 15; an output whose shell still names another kind is not converted yet
GENERIC_KINDS = {"summary", "worst_grade", "time_to_event", "km_figure", "records_summary", "listing", "shift",
                 "by_visit"}
EVERY_COLUMN = None
# Intended new records: (group, group_level) or EVERY_COLUMN (each column of the table), variable,
# variable_level, stat_name, stat.
INTENDED = {
    # every planned cycle count is printed, zero or not (levels 1-5 in the shell): nobody started 4
    "14.1.3": [(EVERY_COLUMN, "NCYCLEGR", "4", "n", 0.0), (EVERY_COLUMN, "NCYCLEGR", "4", "p", 0.0)],
    # every column carries its denominator: the grade columns' N is the 36 treated subjects
    "14.3.1.3": [(("ATOXGR", grade), "BIGN", "", "N", 36.0) for grade in "12345"],
}
# Intended new statistics, whatever their value (tested against R and by hand in test_tlf_kinds_b):
# the time-to-event tables print events and censored as n (%) and the quartiles with their CIs; the
# cytokine table says how many peaks are BLQ-imputed values.
TTE_ADDED = {"events_p", "censored_p", "q1", "q1_ci_low", "q1_ci_high", "q3", "q3_ci_low", "q3_ci_high"}
INTENDED_STATS = {"14.2.4.1": TTE_ADDED, "14.2.5.1": TTE_ADDED, "14.2.6.1": TTE_ADDED, "14.4.3": {"n_imputed"}}
LISTINGS = ("16.2.6.1", "16.2.7.1", "16.2.7.2")


@pytest.fixture(scope="module")
def new_ards(default_adam, study) -> dict[str, pd.DataFrame]:
    shells = [s for s in load_shells(SPECS / "tlf") if s.kind in ("table", "listing") and s.analysis is not None
              and s.analysis.kind in GENERIC_KINDS]
    return analyze(AdamData(XptFolder(default_adam[1] / ADAM_DIR), study), shells)


def baseline(output: str) -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / f"{output}.csv", dtype=str, keep_default_na=False)
    return frame.assign(stat=pd.to_numeric(frame["stat"]))


def intended(output: str, ard: pd.DataFrame) -> pd.DataFrame:
    columns = ard[["group", "group_level"]].drop_duplicates().itertuples(index=False)
    columns = list(columns)
    rows = []
    for where, variable, level, name, value in INTENDED.get(output, []):
        for group, group_level in (columns if where is EVERY_COLUMN else [where]):
            rows.append({"group": group, "group_level": group_level, "variable": variable, "variable_level": level,
                         "stat_name": name, "stat": value})
    return pd.DataFrame(rows, columns=[*KEY, "stat"])


@pytest.mark.parametrize("output", sorted(p.stem for p in FIXTURES.glob("*.csv")))
def test_ard_equals_the_baseline_but_for_intended_additions(new_ards, output):
    shell = {s.id: s for s in load_shells(SPECS / "tlf")}[output]
    assert output in new_ards, f"shell {output} names the kind {shell.analysis.kind}, not a generic one"
    new = new_ards[output].assign(stat=lambda f: f["stat"].astype(float))
    assert not new.duplicated(KEY).any()
    assert set(new["output"]) == {output}
    old = baseline(output)
    both = old.merge(new, on=KEY, how="left", suffixes=("", "_new"), indicator=True)
    lost = both[both["_merge"] == "left_only"]
    assert lost.empty, f"{output}: baseline records missing:\n{lost[KEY].head(20).to_string()}"
    same = np.isclose(both["stat"], both["stat_new"], rtol=0, atol=1e-12) | (both["stat"].isna()
                                                                             & both["stat_new"].isna())
    assert same.all(), f"{output}: statistics differ:\n{both.loc[~same, [*KEY, 'stat', 'stat_new']].to_string()}"
    assert (both["stat_label"] == both["stat_label_new"]).all()
    added = new.merge(old[KEY], on=KEY, how="left", indicator=True)
    added = added.loc[added["_merge"] == "left_only", [*KEY, "stat"]]
    added = added[~added["stat_name"].isin(INTENDED_STATS.get(output, set()))]
    expected = intended(output, new)
    key = lambda f: f.sort_values(KEY).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(key(added), key(expected), check_dtype=False)
    # the baseline's records keep their order (the tables read levels in ARD order)
    order = new[KEY].merge(old[KEY].assign(_old=np.arange(len(old))), on=KEY, how="inner")["_old"]
    assert order.is_monotonic_increasing


def listing_text(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_numeric_dtype(column):
        return pd.Series(["" if pd.isna(v) else f"{float(v):.12g}" for v in column], index=column.index)
    return column.astype(object).where(column.notna(), "").astype(str)


@pytest.mark.parametrize("output", LISTINGS)
def test_listing_rows_equal_the_baseline(new_ards, output):
    shell = {s.id: s for s in load_shells(SPECS / "tlf")}[output]
    names = [c.name for c in shell.columns]
    frame = new_ards[output].sort_values(list(shell.sort_by), kind="mergesort")
    new = pd.DataFrame({c: listing_text(frame[c]).to_numpy() for c in names})
    old = pd.read_csv(Path(__file__).parent / "fixtures" / "mt103-206-listings" / f"{output}.csv", dtype=str,
                      keep_default_na=False)
    pd.testing.assert_frame_equal(new, old, check_dtype=False)
    for day in {"ADY", "ASTDY", "DTHDY"} & set(names):  # whole days stay integers
        assert str(new_ards[output][day].dtype) == "Int64"
