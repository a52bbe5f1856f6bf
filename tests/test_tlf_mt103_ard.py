"""MT103-206's tables from generic analysis kinds give the ARDs of the study-specific functions they
replaced (issue 15): every record of the baseline ARD (tests/fixtures/mt103-206-ard, written by the
build of c31bbb5) is in the new ARD with the same statistic and label; the new ARD holds no other
record but the intended additions listed here."""

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


@pytest.fixture(scope="module")
def new_ards(default_adam, study) -> dict[str, pd.DataFrame]:
    shells = [s for s in load_shells(SPECS / "tlf") if s.kind == "table" and s.analysis is not None
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
    if output not in new_ards:
        pytest.skip(f"shell {output} still names the study-specific kind {shell.analysis.kind}")
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
    expected = intended(output, new)
    key = lambda f: f.sort_values(KEY).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(key(added), key(expected), check_dtype=False)
