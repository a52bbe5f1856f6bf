"""The generic kinds time_to_event, km_figure, records_summary and listing on a made-up tiny ADaM:
numbers by hand (Kaplan-Meier also against scipy's), listing rows by hand, and a made-up shell of
each kind rendered into a package."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from scipy.stats import CensoredData, ecdf

from submit.errors import DataCheckError, InputError
from submit.tlf import TlfContext, load_shells, write_tlf_package
from submit.tlf.analysis import AdamData, analyze
from submit.tlf.shell import AnalysisRef, Population

D = pd.Timestamp
NaT = pd.NaT

ADSL = pd.DataFrame({
    "USUBJID": ["A1", "A2", "A3", "A4", "B1", "B2", "C", "D", "E"],
    "SAFFL": ["Y", "Y", "Y", "Y", "Y", "Y", "Y", "N", "N"],
    "PKFL": ["Y", "Y", "N", "N", "N", "N", "N", "N", "N"],
    "TRT01A": ["Arm A", "Arm A", "Arm A", "Arm A", "Arm B", "Arm B", "Arm A", "Arm B", "Arm B"],
    "TRT01AN": [1.0, 1, 1, 1, 2, 2, 1, 2, 2],
    "ARMCD": ["A", "A", "A", "A", "B", "B", "A", "B", "B"],
    "SCHED": ["Slow", "Slow", "Fast", "Fast", "Slow", "Slow", "Fast", "Slow", "Slow"],
    "SCHEDN": [1.0, 1, 2, 2, 1, 1, 2, 1, 1],
    "AGE": [40.0, 51, 62, 33, 45, 70, 28, 55, 60],
    "DTHFL": ["Y", "Y", "Y", "", "", "", "", "", "Y"],
    "TRTSDT": [D("2020-01-10"), D("2020-01-10"), D("2020-01-01"), D("2020-01-01"), D("2020-01-01"), D("2020-01-01"),
               D("2020-01-01"), NaT, D("2020-01-01")],
    "TRTEDT": [D("2020-01-20"), NaT, D("2020-01-15"), D("2020-02-01"), D("2020-02-01"), D("2020-02-01"),
               D("2020-02-01"), NaT, D("2020-02-01")],
    "DTHDT": [D("2020-01-05"), D("2020-01-10"), D("2020-03-01"), NaT, NaT, NaT, NaT, NaT, D("2020-02-02")],
})
# A: 10 event, 20 censored, 30 event, 40 event; B: 5 event, 15 censored; C (treated) has no record,
# D (not treated) has one: neither is analysed.
ADTTE = pd.DataFrame({"USUBJID": ["A1", "A2", "A3", "A4", "B1", "B2", "D", "A1"],
                      "PARAMCD": ["OS", "OS", "OS", "OS", "OS", "OS", "OS", "PFS"],
                      "AVAL": [10.0, 20, 30, 40, 5, 15, 1, 3], "CNSR": [0.0, 1, 0, 0, 0, 1, 0, 0]})
ADPP = pd.DataFrame({"USUBJID": ["A1", "A1", "A1", "A2", "A2", "A2", "A3"],
                     "PARAMCD": ["CSS"] * 7,
                     "DOSEA": [5.0, 15, 15, 15, 30, np.nan, 5],
                     "ACYCLE": [1.0, 1, 2, 1, 2, 1, 1],
                     "AVAL": [10.0, 20, 30, 40, 50, 7, 1000],
                     "AVALCAT1": ["", "", "", "<LOD", "", "", ""]})
ADLB = pd.DataFrame({"USUBJID": ["A1", "A2", "A3", "A4", "A3", "A1", "A1", "B1"],
                     "PARAMCD": ["IL2", "IL2", "IL2", "IL2", "IL2", "IL6", "IL6", "IL2"],
                     "ANL01FL": ["Y", "Y", "Y", "Y", "Y", "Y", "Y", ""],
                     "AVISIT": ["CYCLE 1", "CYCLE 1", "CYCLE 1", "CYCLE 10", "CYCLE 2", "CYCLE 1", "CYCLE 1", "CYCLE 1"],
                     "AVISITN": [1.0, 1, 1, 10, 2, 1, 1, 1],
                     "DOSESTPN": [1.0, 1, 1, 1, 1, 1, 2, 1],
                     "AVAL": [100.0, 300, 50, 70, 80, 5, 6, 9999],
                     "AVALCAT1": ["", "<LLOQ", "", "", "", "", "", ""]})
ADAE = pd.DataFrame({"USUBJID": ["A1", "A1", "B2", "D", "A3"],
                     "TRT01A": ["stale", "stale", "stale", "stale", "stale"],
                     "AESER": ["Y", "Y", "Y", "Y", "N"],
                     "AEDECOD": ["Nausea", "Fever", "Rash", "Cough", "Pain"],
                     "ASTDT": [D("2020-01-12"), D("2020-01-11"), D("2020-01-03"), D("2020-01-01"), D("2020-01-02")],
                     "ASTDY": [3.0, 2, 3, 1, 2]})
ADRS = pd.DataFrame({"USUBJID": ["A1", "A1", "A1", "A1", "A1", "B1", "B1"],
                     "PARAMCD": ["OVRLRESP", "BLAST", "EMD", "OVRLRESP", "BLAST", "OVRLRESP", "EMD"],
                     "AVISIT": ["C1", "C1", "C1", "C2", "C2", "C1", "C1"],
                     "AVAL": [np.nan, 4.5, np.nan, np.nan, 30.25, np.nan, np.nan],
                     "AVALC": ["CR", "4.5", "N", "PR", "30.25", "NR", "Y"],
                     "ADY": [29.0, 29, 29, 57, 57, 30, 30]})


@pytest.fixture(scope="module")
def data(study) -> AdamData:
    return AdamData({"ADSL": ADSL, "ADTTE": ADTTE, "ADPP": ADPP, "ADLB": ADLB, "ADAE": ADAE, "ADRS": ADRS}, study)


def shells_of(text: str, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shells.yaml").write_text(text, encoding="utf-8")
    return {s.id: s for s in load_shells(folder)}


SHELLS = """
outputs:
  - id: "14.9.1"
    file: t_tte
    kind: table
    title: ["Overall survival"]
    population: {label: All treated, flag: SAFFL}
    datasets: [ADSL, ADTTE]
    analysis: {kind: time_to_event, where: {PARAMCD: OS}, variable: OS, times: [1.5, 2.5],
               unit: {label: tens of days, days: 10}, columns: {by: [TRT01A], total: false}}
    columns: [{group: TRT01A}]
    rows:
      - {variable: OS, label: "Deaths", cell: "{events} ({events_p:pct1})"}
      - {variable: OS, label: "Median (95% CI)", cell: "{median:d1} ({median_ci_low:d1}, {median_ci_high:d1})"}
      - {variable: OS, label: "Q1, Q3", cell: "{q1:d1}, {q3:d1}"}
      - {variable: OS, levels: [{level: "1.5"}, {level: "2.5"}], cell: "{survival:pct1} [{n_risk}]"}
  - id: "14.9.2"
    file: f_km
    kind: figure
    title: ["KM"]
    population: {label: All treated, flag: SAFFL}
    datasets: [ADSL, ADTTE]
    analysis: {kind: km_figure, where: {PARAMCD: OS}, unit: {label: tens of days, days: 10}, columns: {by: [TRT01A], total: false}}
    figure: {type: km, at_risk_times: [0, 2]}
  - id: "14.9.3"
    file: t_pk
    kind: table
    title: ["Css"]
    population: {label: PK, flag: PKFL}
    datasets: [ADSL, ADPP]
    analysis: {kind: records_summary, dataset: ADPP, where: {PARAMCD: CSS}, variable: CSS,
               record_columns: {variable: DOSEA, group: DOSE}, levels: {variable: ACYCLE},
               imputed: {where: {AVALCAT1: ["<LOD", "<LLOQ"]}}}
    columns: [{group: DOSE, label: "{{ level }} mg", show_n: false}]
    header_n: null
    absent_text: "-"
    rows:
      - {variable: CSS, levels: [{level: "1", label: Cycle 1}, {level: "2", label: Cycle 2}],
         stats: [{label: "n (BLQ)", cell: "{n} ({n_imputed:d0})"}, {label: Mean, cell: "{mean:d1}"}]}
  - id: "16.9.1"
    file: l_deaths
    kind: listing
    title: ["Deaths"]
    population: {label: All treated, flag: SAFFL}
    datasets: [ADSL]
    analysis: {kind: listing, where: {DTHFL: "Y"}, subject_variables: [ARMCD],
               recode: {COHORT: {from: ARMCD, map: {A: "1"}}},
               study_days: {DTHDY: {date: DTHDT, reference: TRTSDT}},
               flags: {DTHTEFL: {DTHDT: {le: {var: TRTEDT, days: 30}}}}}
    sort_by: [USUBJID]
    columns:
      - {name: USUBJID, label: Subject}
      - {name: COHORT, label: Cohort}
      - {name: AGE, label: Age}
      - {name: DTHDT, label: Death}
      - {name: DTHDY, label: Day}
      - {name: DTHTEFL, label: TEAE period}
"""


@pytest.fixture(scope="module")
def shells(tmp_path_factory):
    return shells_of(SHELLS, tmp_path_factory.mktemp("shells"))


def with_analysis(shell, **analysis):
    return shell.model_copy(update={"analysis": AnalysisRef(**analysis)})


def cell(frame: pd.DataFrame, level: str, variable: str, var_level: str, name: str) -> float:
    hit = frame[(frame["group_level"] == level) & (frame["variable"] == variable)
                & (frame["variable_level"] == var_level) & (frame["stat_name"] == name)]
    assert len(hit) == 1, (level, variable, var_level, name, len(hit))
    return float(hit["stat"].iloc[0])


# time_to_event --------------------------------------------------------------------------------------
def test_time_to_event_by_arm_against_a_hand_computation_and_scipy(data, shells):
    ard = analyze(data, [shells["14.9.1"]])["14.9.1"]
    assert ard["group_level"].unique().tolist() == ["Arm A", "Arm B"]  # total: false; C and D not analysed
    assert cell(ard, "Arm A", "BIGN", "", "N") == 4 and cell(ard, "Arm B", "BIGN", "", "N") == 2
    # Arm A: S = 0.75 from 10 (until the next event at 30: q1 is the midpoint 20), 0.375 from 30, 0 at 40
    expected = {"events": 3, "events_p": 0.75, "censored": 1, "censored_p": 0.25, "median": 3.0, "q1": 2.0, "q3": 4.0}
    for name, value in expected.items():
        assert cell(ard, "Arm A", "OS", "", name) == pytest.approx(value), name
    # Arm B: S = 0.5 from day 5, never below: the median is not reached; q1 at day 5
    assert np.isnan(cell(ard, "Arm B", "OS", "", "median"))
    assert cell(ard, "Arm B", "OS", "", "q1") == pytest.approx(0.5)
    assert ard.loc[ard["stat_name"] == "median", "stat_label"].iloc[0] == "Median (tens of days)"
    fit = ecdf(CensoredData(uncensored=[10, 30, 40], right=[20]))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):  # undefined where S = 0 (day 40)
        band = fit.sf.confidence_interval(method="log-log")
    for level, days, at_risk in (("1.5", 15, 3), ("2.5", 25, 2)):
        assert cell(ard, "Arm A", "OS", level, "survival") == pytest.approx(fit.sf.evaluate(days))
        assert cell(ard, "Arm A", "OS", level, "ci_low") == pytest.approx(band.low.evaluate(days), abs=1e-9)
        assert cell(ard, "Arm A", "OS", level, "ci_high") == pytest.approx(band.high.evaluate(days), abs=1e-9)
        assert cell(ard, "Arm A", "OS", level, "n_risk") == at_risk


def test_time_to_event_defaults_to_the_total_column_in_days_and_checks_its_comparison(data, shells):
    shell = with_analysis(shells["14.9.1"], kind="time_to_event", where={"PARAMCD": "OS"}, variable="OS", times=[12])
    ard = analyze(data, [shell])["14.9.1"]
    assert set(ard["group_level"]) == {"Total"}
    assert cell(ard, "Total", "BIGN", "", "N") == 6
    assert cell(ard, "Total", "OS", "12", "n_risk") == 4  # 15, 20, 30, 40 days
    assert cell(ard, "Total", "OS", "", "median") == 30  # days: 6/6 * 5/6 ... hand: S(5)=5/6, S(10)=4/6, S(30)=2/6
    bad = with_analysis(shell, kind="time_to_event", variable="OS", compare={"method": "logrank"})
    with pytest.raises(InputError) as caught:
        analyze(data, [bad])
    assert caught.value.problems[0].key.endswith("analysis.compare")
    assert "reference" in caught.value.problems[0].message  # required; and no such method


def test_km_figure_draws_one_curve_per_arm_in_the_unit(data, shells):
    curves = analyze(data, [shells["14.9.2"]])["14.9.2"]
    assert [c.label for c in curves] == ["Arm A (N=4)", "Arm B (N=2)"]
    np.testing.assert_allclose(curves[0].time, [1.0, 3.0, 4.0])
    np.testing.assert_allclose(curves[0].survival, [0.75, 0.375, 0.0])
    np.testing.assert_allclose(curves[0].censor_times, [2.0])
    assert curves[0].at_risk.tolist() == [4, 3] and curves[1].at_risk.tolist() == [2, 0]
    assert curves[0].median == pytest.approx(3.0)
    overall = with_analysis(shells["14.9.2"], kind="km_figure", where={"PARAMCD": "OS"})
    (curve,) = analyze(data, [overall])["14.9.2"]
    assert curve.label == "All treated (N=6)"
    np.testing.assert_allclose(curve.time, [5, 10, 30, 40])  # days by default


# records_summary ------------------------------------------------------------------------------------
def test_records_summary_by_record_column_and_level(data, shells):
    ard = analyze(data, [shells["14.9.3"]])["14.9.3"]
    assert ard["group_level"].unique().tolist() == ["5", "15", "30"]  # by dose value, not alphabetically
    assert set(ard["group"]) == {"DOSE"}
    # PKFL subjects A1, A2; A2's record without a dose belongs to no cell; A3 is not PK-evaluable
    assert cell(ard, "5", "CSS", "1", "n") == 1 and cell(ard, "5", "CSS", "1", "mean") == 10
    assert cell(ard, "15", "CSS", "1", "n") == 2 and cell(ard, "15", "CSS", "1", "mean") == 30
    assert cell(ard, "15", "CSS", "1", "min") == 20 and cell(ard, "15", "CSS", "1", "median") == 30
    assert cell(ard, "15", "CSS", "1", "n_imputed") == 1 and cell(ard, "5", "CSS", "1", "n_imputed") == 0
    assert cell(ard, "15", "CSS", "2", "mean") == 30 and cell(ard, "30", "CSS", "2", "mean") == 50
    cells = set(zip(ard["group_level"], ard["variable_level"]))
    assert cells == {("5", "1"), ("15", "1"), ("15", "2"), ("30", "2")}  # no record for cells without data
    assert set(ard["stat_name"]) >= {"geo_mean", "cv", "q3"}  # every statistic by default
    assert "BIGN" not in set(ard["variable"])


def test_records_summary_by_parameter_with_subject_columns_and_template_levels(data, shells):
    shell = with_analysis(shells["14.9.3"].model_copy(update={"population": Population(label="All", flag="SAFFL")}),
                          kind="records_summary", dataset="ADLB", where={"ANL01FL": "Y"},
                          by_parameter={"variable": "PARAMCD", "levels": ["IL6", "IL2"]},
                          columns={"by": [{"variable": "SCHED", "order": "SCHEDN"}], "total": False},
                          levels={"template": "{{ AVISIT | capitalize }}, step {{ DOSESTPN }}",
                                  "order": ["AVISITN", "DOSESTPN"]},
                          stats=["n", "mean", "max"])
    ard = analyze(data, [shell])["14.9.3"]
    assert ard["variable"].unique().tolist() == ["IL6", "IL2"]  # the shell's order
    il2 = ard[ard["variable"] == "IL2"]
    assert il2["variable_level"].unique().tolist() == ["Cycle 1, step 1", "Cycle 2, step 1",
                                                      "Cycle 10, step 1"]  # AVISITN order, whole numbers as such
    first = il2[il2["variable_level"] == "Cycle 1, step 1"]
    assert first["group_level"].unique().tolist() == ["Slow", "Fast"]  # by SCHEDN, not alphabetically
    assert ard.loc[ard["variable"] == "IL6", "variable_level"].unique().tolist() == ["Cycle 1, step 1",
                                                                                   "Cycle 1, step 2"]
    assert set(ard["stat_name"]) == {"n", "mean", "max"}
    assert cell(ard, "Slow", "IL2", "Cycle 1, step 1", "n") == 2  # A1, A2 (B1's record is not ANL01FL)
    assert cell(ard, "Slow", "IL2", "Cycle 1, step 1", "mean") == 200
    assert cell(ard, "Fast", "IL2", "Cycle 10, step 1", "max") == 70
    assert cell(ard, "Slow", "IL6", "Cycle 1, step 2", "n") == 1
    assert cell(ard, "Fast", "IL2", "Cycle 1, step 1", "mean") == 50


def test_records_summary_parameters_that_do_not_fit_together_are_named(data, shells):
    shell = with_analysis(shells["14.9.3"], kind="records_summary", dataset="ADPP", stats=["n", "mode"],
                          columns={"by": ["TRT01A"]}, record_columns={"variable": "DOSEA"})
    with pytest.raises(InputError) as caught:
        analyze(data, [shell])
    keys = {p.key for p in caught.value.problems}
    assert keys == {"variable", "columns", "stats"}


# listing --------------------------------------------------------------------------------------------
def test_listing_recodes_counts_study_days_and_flags(data, shells):
    frame = analyze(data, [shells["16.9.1"]])["16.9.1"].sort_values("USUBJID")
    # treated subjects who died: A1 (before the first infusion), A2 (on its day, no last infusion date), A3
    assert frame["USUBJID"].tolist() == ["A1", "A2", "A3"]
    assert frame["COHORT"].tolist() == ["1", "1", "1"]
    assert frame["DTHDY"].tolist() == [-5, 1, 61]  # no day 0
    assert str(frame["DTHDY"].dtype) == "Int64" and str(frame["AGE"].dtype) == "Int64"
    assert frame["DTHTEFL"].tolist() == ["Y", "", "N"]  # A3: 2020-03-01 > 2020-01-15 + 30 days


def test_listing_of_records_takes_subject_variables_from_adsl(data, shells):
    shell = shells["16.9.1"].model_copy(update={"columns": (), "sort_by": ("USUBJID", "ASTDT")})
    shell = with_analysis(shell, kind="listing", dataset="ADAE", where={"AESER": "Y"},
                          subject_variables=["TRT01A", "ARMCD"], recode={"COHORT": {"from": "ARMCD", "map": {"A": "1"}}})
    shell = shell.model_copy(update={"columns": tuple(
        type(shells["16.9.1"].columns[0])(name=n, label=n) for n in ("USUBJID", "COHORT", "TRT01A", "AEDECOD", "ASTDY"))})
    frame = analyze(data, [shell])["16.9.1"].sort_values(["USUBJID", "ASTDT"])
    assert frame[["USUBJID", "COHORT", "TRT01A", "AEDECOD"]].values.tolist() == [
        ["A1", "1", "Arm A", "Fever"], ["A1", "1", "Arm A", "Nausea"], ["B2", "B", "Arm B", "Rash"]]  # D: not treated
    assert frame["ASTDY"].tolist() == [2, 3, 3] and str(frame["ASTDY"].dtype) == "Int64"


def test_listing_pivots_parameters_of_the_same_visit(data, shells):
    shell = shells["16.9.1"].model_copy(update={"sort_by": ("USUBJID", "AVISIT"), "columns": tuple(
        type(shells["16.9.1"].columns[0])(name=n, label=n, format="d2" if n == "BLAST" else None)
        for n in ("USUBJID", "AVISIT", "ADY", "AVALC", "BLAST", "EMD"))})
    shell = with_analysis(shell, kind="listing", dataset="ADRS", where={"PARAMCD": "OVRLRESP"},
                          pivot={"key": ["USUBJID", "AVISIT"], "numbers": ["BLAST"], "codes": ["EMD"]})
    frame = analyze(data, [shell])["16.9.1"].sort_values(["USUBJID", "AVISIT"])
    assert frame[["USUBJID", "AVISIT", "AVALC", "EMD"]].values.tolist() == [
        ["A1", "C1", "CR", "N"], ["A1", "C2", "PR", ""], ["B1", "C1", "NR", "Y"]]
    np.testing.assert_allclose(frame["BLAST"].to_numpy(float), [4.5, 30.25, np.nan])
    twice = AdamData({"ADSL": ADSL, "ADRS": pd.concat([ADRS, ADRS.iloc[[1]]])}, data.study)
    with pytest.raises(DataCheckError):
        analyze(twice, [shell])


# every kind renders ---------------------------------------------------------------------------------
def test_a_made_up_shell_of_each_kind_renders(data, shells, study, tmp_path):
    results = analyze(data, list(shells.values()))
    context = TlfContext(study=study, build_date=dt.date(2026, 1, 1))
    index = write_tlf_package(list(shells.values()), results, tmp_path, context)
    assert sorted(index["id"]) == ["14.9.1", "14.9.2", "14.9.3", "16.9.1"]
    texts = [c.text for row in Document(str(tmp_path / "t_tte.docx")).tables[0].rows for c in row.cells]
    assert "3 (75.0)" in texts and "2.0, 4.0" in texts and "75.0 [3]" in texts
    pk = [c.text for row in Document(str(tmp_path / "t_pk.docx")).tables[0].rows for c in row.cells]
    assert "2 (1)" in pk and "-" in pk
    deaths = [c.text for row in Document(str(tmp_path / "l_deaths.docx")).tables[0].rows for c in row.cells]
    assert "-5" in deaths and "61" in deaths
    assert (tmp_path / "figures" / "f_km.png").stat().st_size > 10_000
