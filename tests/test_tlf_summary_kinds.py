"""The generic kinds `summary` (layers count, describe, subjects, events) and `worst_grade` on a
made-up ADaM of six subjects: every expected number is counted by hand in the comments, exact CIs
come from scipy, and made-up shells of each kind render through the package's renderer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from submit.errors import DataCheckError, InputError
from submit.tlf import TlfContext, load_layout, load_shells, render_output
from submit.tlf.analysis import AdamData, analyze

# Arm A: S1 S2 S3 (N = 3); arm B: S4 S5 (N = 2); S6 is not treated (SAFFL N): in no column. Total N = 5.
ADSL = pd.DataFrame({
    "USUBJID": ["S1", "S2", "S3", "S4", "S5", "S6"],
    "SAFFL": ["Y", "Y", "Y", "Y", "Y", "N"],
    "TRT01A": ["A", "A", "A", "B", "B", "B"],
    "TRT01AN": [1.0, 1, 1, 2, 2, 2],
    "SEX": ["M", "F", "M", "F", "F", "M"],
    "RACE": ["WHITE", "ASIAN", "WHITE", "WHITE", "BLACK", "WHITE"],
    "AGE": [30.0, 40, 50, 60, 70, 20],
    "AGEGR1": ["<35", "35-54", "35-54", ">=55", ">=55", "<35"],
    "AGEGR1N": [1.0, 2, 2, 3, 3, 1],
    "DTHFL": ["Y", "", "", "Y", "", ""],
})
ADRS = pd.DataFrame({
    "USUBJID": ["S1", "S2", "S4", "S6", "S1", "S2", "S3", "S4", "S5", "S1", "S2", "S5"],
    "PARAMCD": ["BOR"] * 4 + ["RESP"] * 5 + ["MRD"] * 3,
    "AVALC": ["CR", "PR", "SD", "CR", "Y", "Y", "N", "N", "Y", "Y", "N", "Y"],
})
ADEX = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4", "S5"], "PARAMCD": "NCYCLE",
                     "AVAL": [2.0, 1, 2, 1, 10]})
ADAE = pd.DataFrame({
    "USUBJID": ["S1", "S1", "S1", "S2", "S3", "S4", "S4", "S6"],
    "AEBODSYS": ["Gastro", "Gastro", "Gastro", "Skin", "Gastro", "Skin", "Gastro", "Skin"],
    "AEDECOD": ["Nausea", "Nausea", "Vomiting", "Rash", "Nausea", "Rash", "Nausea", "Rash"],
    "ATOXGRN": [1.0, 3, 2, 2, 2, 4, 1, 5],
    "ATOXGR": ["1", "3", "2", "2", "2", "4", "1", "5"],
    "TRTEMFL": ["Y", "Y", "Y", "Y", "N", "Y", "Y", "Y"],
})
DATA = {"ADSL": ADSL, "ADRS": ADRS, "ADEX": ADEX, "ADAE": ADAE}

HEAD = """
  - id: "{id}"
    file: t_{file}
    kind: table
    title: ["Made up"]
    population: {{label: Treated, flag: SAFFL}}
    datasets: [ADSL]
"""
SUMMARY = HEAD.format(id="14.9.1", file="summary") + """
    analysis:
      kind: summary
      columns: {by: [TRT01A], total: true}
      layers:
        - {count: SEX, levels: [M, F, U]}
        - {count: RACE}
        - {count: DTHFL, levels: [N, "Y"], missing: N}
        - {count: AGEGR1, order: AGEGR1N}
        - {describe: AGE}
        - {describe: AGE2, value: AGE, stats: [n, median]}
        - {count: BOR, dataset: ADRS, where: {PARAMCD: BOR}, value: AVALC, levels: [CR, PR, SD, NE], missing: NE}
        - {count: RESP, dataset: ADRS, where: {PARAMCD: RESP}, value: AVALC, levels: ["Y"], ci: exact}
        - {count: MRD_RESP, dataset: ADRS, where: {PARAMCD: MRD}, value: AVALC, levels: ["Y"],
           denominator: {dataset: ADRS, where: {PARAMCD: RESP, AVALC: "Y"}}}
        - {count: WORST, dataset: ADAE, where: {TRTEMFL: "Y"}, value: ATOXGR, worst: ATOXGRN,
           levels: ["1", "2", "3", "4", "5"]}
        - {count: NCYC, dataset: ADEX, where: {PARAMCD: NCYCLE}, value: AVAL, levels: [1, 2, 3]}
        - {count: NCYCOBS, dataset: ADEX, value: AVAL}
        - {subjects: TEAE, level: GE3, dataset: ADAE, where: {TRTEMFL: "Y", ATOXGRN: {ge: 3}}}
        - {events: [AEBODSYS, AEDECOD], dataset: ADAE, where: {TRTEMFL: "Y"}, count_events: true, any: TEAE}
    columns:
      - {group: TRT01A, span: Arm}
      - {level: Total}
    rows:
      - variable: SEX
        levels: [{level: M, label: Male}, {level: F, label: Female}, {level: U, label: Unknown}]
        cell: "{n} ({p:pct1})"
      - {variable: DTHFL, levels: [{level: N, label: Alive}, {level: "Y", label: Died}], cell: "{n} ({p:pct1})"}
      - {variable: AGEGR1, levels: ard, cell: "{n}"}
      - {variable: AGE, label: Age, stats: [{label: Mean (SD), cell: "{mean:d1} ({sd:d2})"}]}
      - {variable: RESP, level: "Y", label: Response, cell: "{n}/{N} ({ci_low:pct1}, {ci_high:pct1})"}
      - {variable: TEAE, level: ANY, label: Any TEAE, cell: "{n} [{events}]"}
      - {variable: AEBODSYS, child: AEDECOD, levels: ard, sort: frequency, cell: "{n} [{events}]"}
"""
GRADES = HEAD.format(id="14.9.2", file="grades") + """
    analysis: {kind: worst_grade, dataset: ADAE, where: {TRTEMFL: "Y"}, grade: ATOXGRN, group: ATOXGR,
               levels: ["1", "2", "3", "4", "5"], hierarchy: [AEBODSYS, AEDECOD], any: TEAE}
    columns:
      - {group: ATOXGR, levels: ["1", "2", "3", "4", "5"], label: "Grade {{ level }}", show_n: false}
      - {level: Total, label: Any grade}
    rows:
      - {variable: TEAE, level: ANY, label: Any TEAE, cell: "{n} ({p:pct1})"}
      - {variable: AEBODSYS, child: AEDECOD, levels: ard, sort: frequency, cell: "{n} ({p:pct1})"}
"""
GRADES_BY_ARM = HEAD.format(id="14.9.3", file="grades_by_arm") + """
    analysis: {kind: worst_grade, dataset: ADAE, where: {TRTEMFL: "Y"}, grade: ATOXGRN, group: ATOXGR,
               levels: ["1", "2", "3", "4", "5"], hierarchy: [AEBODSYS], any: TEAE,
               columns: {by: [TRT01A], total: false}}
    columns:
      - {group: "TRT01A | ATOXGR", label: "{{ path[1] }}", span: "{{ path[0] }}", show_n: false}
    rows:
      - {variable: TEAE, level: ANY, label: Any TEAE, cell: "{n}"}
      - {variable: AEBODSYS, levels: ard, cell: "{n}"}
"""


def shells_of(tmp_path: Path, *texts: str) -> dict:
    (tmp_path / "shells.yaml").write_text("outputs:" + "".join(texts), encoding="utf-8")
    return {s.id: s for s in load_shells(tmp_path)}


@pytest.fixture()
def results(tmp_path, study):
    shells = shells_of(tmp_path, SUMMARY, GRADES, GRADES_BY_ARM)
    return shells, analyze(AdamData(DATA, study), list(shells.values()))


def cells(ard: pd.DataFrame, variable: str, level: str, stat: str) -> dict[str, float]:
    """group_level -> stat of one variable and level."""
    hit = ard[(ard["variable"] == variable) & (ard["variable_level"] == level) & (ard["stat_name"] == stat)]
    assert not hit.duplicated("group_level").any()
    return dict(zip(hit["group_level"], hit["stat"]))


def test_count_layers_print_listed_levels_fill_missing_and_sort_observed(results):
    ard = results[1]["14.9.1"]
    assert cells(ard, "BIGN", "", "N") == {"A": 3, "B": 2, "Total": 5}  # S6 is not treated
    assert cells(ard, "SEX", "M", "n") == {"A": 2, "B": 0, "Total": 2}  # S1 S3 | - (S6 untreated)
    assert cells(ard, "SEX", "F", "p") == pytest.approx({"A": 1 / 3, "B": 1.0, "Total": 3 / 5})  # S2 | S4 S5
    assert cells(ard, "SEX", "U", "n") == {"A": 0, "B": 0, "Total": 0}  # listed: printed with 0
    race = ard[(ard["variable"] == "RACE") & (ard["group_level"] == "Total") & (ard["stat_name"] == "n")]
    assert race["variable_level"].tolist() == ["ASIAN", "BLACK", "WHITE"] and race["stat"].tolist() == [1, 1, 3]
    assert cells(ard, "DTHFL", "N", "n") == {"A": 2, "B": 1, "Total": 3}  # blank -> N: S2 S3 | S5
    assert cells(ard, "DTHFL", "Y", "n") == {"A": 1, "B": 1, "Total": 2}  # S1 | S4
    groups = ard[(ard["variable"] == "AGEGR1") & (ard["group_level"] == "Total") & (ard["stat_name"] == "n")]
    assert groups["variable_level"].tolist() == ["<35", "35-54", ">=55"]  # by AGEGR1N, not alphabetically
    assert groups["stat"].tolist() == [1, 2, 2]  # S1 | S2 S3 | S4 S5
    # no ADRS BOR record: S3 (A) and S5 (B) count as NE; S6's CR is outside the population
    assert cells(ard, "BOR", "CR", "n") == {"A": 1, "B": 0, "Total": 1}
    assert cells(ard, "BOR", "SD", "n") == {"A": 0, "B": 1, "Total": 1}
    assert cells(ard, "BOR", "NE", "n") == {"A": 1, "B": 1, "Total": 2}
    # worst grade per subject: S1 3 (of 1, 3, 2), S2 2, S4 4 (of 4, 1); S3's AE is not treatment-emergent
    assert cells(ard, "WORST", "3", "n") == {"A": 1, "B": 0, "Total": 1}
    assert cells(ard, "WORST", "4", "n") == {"A": 0, "B": 1, "Total": 1}
    assert cells(ard, "WORST", "1", "n") == {"A": 0, "B": 0, "Total": 0}
    # numbers as levels: AVAL 2 1 2 | 1 10; listed levels 1 2 3 (3 printed with 0, 10 not listed)
    assert cells(ard, "NCYC", "2", "n") == {"A": 2, "B": 0, "Total": 2}
    assert cells(ard, "NCYC", "3", "n") == {"A": 0, "B": 0, "Total": 0}
    observed = ard[(ard["variable"] == "NCYCOBS") & (ard["group_level"] == "Total") & (ard["stat_name"] == "n")]
    assert observed["variable_level"].tolist() == ["1", "2", "10"]  # by value, not as text


def test_exact_ci_and_a_denominator_of_responders(results):
    ard = results[1]["14.9.1"]
    # RESP = Y: S1 S2 of A (3), S5 of B (2), 3 of 5
    for column, (n, total) in {"A": (2, 3), "B": (1, 2), "Total": (3, 5)}.items():
        ci = binomtest(n, total).proportion_ci(method="exact")
        assert cells(ard, "RESP", "Y", "n")[column] == n and cells(ard, "RESP", "Y", "N")[column] == total
        assert cells(ard, "RESP", "Y", "ci_low")[column] == pytest.approx(ci.low, abs=1e-10)
        assert cells(ard, "RESP", "Y", "ci_high")[column] == pytest.approx(ci.high, abs=1e-10)
    # MRD = Y among responders: A responders S1 S2, MRD Y S1; B responder S5, MRD Y S5
    assert cells(ard, "MRD_RESP", "Y", "p") == pytest.approx({"A": 1 / 2, "B": 1.0, "Total": 2 / 3})


def test_describe_layer_statistics_by_hand(results):
    ard = results[1]["14.9.1"]
    # A: 30 40 50; B: 60 70; Total: 30 40 50 60 70 (SAS percentiles: q1 of 3 values is the 1st)
    assert cells(ard, "AGE", "", "mean") == pytest.approx({"A": 40, "B": 65, "Total": 50})
    assert cells(ard, "AGE", "", "sd") == pytest.approx({"A": 10, "B": np.sqrt(50), "Total": np.sqrt(250)})
    assert cells(ard, "AGE", "", "q1") == {"A": 30, "B": 60, "Total": 40}
    assert cells(ard, "AGE", "", "q3") == {"A": 50, "B": 70, "Total": 60}
    assert set(ard.loc[ard["variable"] == "AGE", "stat_name"]) == {"n", "mean", "sd", "min", "q1", "median", "q3",
                                                                   "max"}
    assert set(ard.loc[ard["variable"] == "AGE2", "stat_name"]) == {"n", "median"}


def test_subjects_and_events_layers_by_hand(results):
    ard = results[1]["14.9.1"]
    assert cells(ard, "TEAE", "GE3", "n") == {"A": 1, "B": 1, "Total": 2}  # S1 (grade 3) | S4 (grade 4)
    # TEAEs: S1 x3, S2 x1 | S4 x2 (S3's is not emergent, S6 untreated)
    assert cells(ard, "TEAE", "ANY", "n") == {"A": 2, "B": 1, "Total": 3}
    assert cells(ard, "TEAE", "ANY", "events") == {"A": 4, "B": 2, "Total": 6}
    assert cells(ard, "AEBODSYS", "Gastro", "events") == {"A": 3, "B": 1, "Total": 4}
    assert cells(ard, "AEDECOD", "Gastro | Nausea", "n") == {"A": 1, "B": 1, "Total": 2}  # S1 twice: once
    assert cells(ard, "AEDECOD", "Gastro | Nausea", "events") == {"A": 2, "B": 1, "Total": 3}
    assert cells(ard, "AEDECOD", "Gastro | Vomiting", "n") == {"A": 1, "B": 0, "Total": 1}
    assert cells(ard, "AEDECOD", "Skin | Rash", "p") == pytest.approx({"A": 1 / 3, "B": 1 / 2, "Total": 2 / 5})


def test_worst_grade_columns_by_hand(results):
    ard = results[1]["14.9.2"]
    # any TEAE: S1 worst 3, S2 2, S4 4; Gastro: S1 3, S4 1; Gastro | Nausea: S1 3 (of 1, 3), S4 1
    assert cells(ard, "TEAE", "ANY", "n") == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 0, "Total": 3}
    assert cells(ard, "AEBODSYS", "Gastro", "n") == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "Total": 2}
    assert cells(ard, "AEDECOD", "Gastro | Nausea", "n") == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "Total": 2}
    assert cells(ard, "AEDECOD", "Skin | Rash", "p") == pytest.approx(
        {"1": 0, "2": 1 / 5, "3": 0, "4": 1 / 5, "5": 0, "Total": 2 / 5})
    assert cells(ard, "BIGN", "", "N") == {g: 5 for g in ["1", "2", "3", "4", "5", "Total"]}
    assert ard.loc[ard["group_level"] == "3", "group"].eq("ATOXGR").all()
    nested = results[1]["14.9.3"]
    # within arm A: S2 worst 2, S1 worst 3; arm B: S4 worst 4; p of the arm's subjects
    assert cells(nested, "TEAE", "ANY", "n") == {"A | 1": 0, "A | 2": 1, "A | 3": 1, "A | 4": 0, "A | 5": 0,
                                                  "A | Total": 2, "B | 1": 0, "B | 2": 0, "B | 3": 0, "B | 4": 1,
                                                  "B | 5": 0, "B | Total": 1}
    assert cells(nested, "TEAE", "ANY", "p")["A | 3"] == pytest.approx(1 / 3)
    assert cells(nested, "AEBODSYS", "Gastro", "n")["B | 1"] == 1  # S4's Gastro AE is grade 1
    assert set(nested["group"]) == {"TRT01A | ATOXGR"}


def test_made_up_shells_of_each_kind_render(results, study, tmp_path):
    shells, found = results
    context, layout = TlfContext(study=study, build_date=dt.date(2026, 1, 1)), load_layout()
    table = render_output(shells["14.9.1"], found["14.9.1"], context, layout, tmp_path).table
    rows = {label: list(row) for label, row in zip(table.body["c0"], table.body.drop(columns="c0").to_numpy())}
    assert rows["Male"] == ["2 (66.7)", "0", "2 (40.0)"]
    assert rows["Unknown"] == ["0", "0", "0"]
    assert rows["Alive"] == ["2 (66.7)", "1 (50.0)", "3 (60.0)"]
    assert rows["Mean (SD)"] == ["40.0 (10.00)", "65.0 (7.07)", "50.0 (15.81)"]
    assert rows["Any TEAE"] == ["2 [4]", "1 [2]", "3 [6]"]
    assert rows["Nausea"] == ["1 [2]", "1 [1]", "2 [3]"]
    ci = binomtest(2, 3).proportion_ci(method="exact")
    assert rows["Response"][0] == f"2/3 ({100 * ci.low:.1f}, {100 * ci.high:.1f})"
    grades = render_output(shells["14.9.2"], found["14.9.2"], context, layout, tmp_path).table
    any_teae = grades.body[grades.body["c0"] == "Any TEAE"].iloc[0].tolist()
    assert any_teae == ["Any TEAE", "0", "1 (20.0)", "1 (20.0)", "1 (20.0)", "0", "3 (60.0)"]
    nested = render_output(shells["14.9.3"], found["14.9.3"], context, layout, tmp_path).table
    spans, labels = nested.header
    assert [(c.text, c.span) for c in spans] == [("", 1), ("A", 6), ("B", 6)]
    assert [c.text for c in labels][1:7] == ["1", "2", "3", "4", "5", "Total"]
    assert nested.body[nested.body["c0"] == "Any TEAE"].iloc[0].tolist()[1:] == \
        ["0", "1", "1", "0", "0", "2", "0", "0", "0", "1", "0", "1"]


def test_unknown_variables_and_bad_filters_are_reported_at_once(tmp_path, study):
    text = HEAD.format(id="14.9.4", file="bad") + """
    analysis:
      kind: summary
      layers:
        - {count: SEXX}
        - {describe: AGE, where: {AGE: {gte: 3}}}
        - {events: [AEBODSYS, PTX], dataset: ADAE, where: {TRTEMFL: "Y"}}
        - {count: X, dataset: ADXX}
        - {describe: SEX}
        - {count: RESP, dataset: ADRS, value: AVALC, denominator: {where: {SAFLF: "Y"}}}
    columns: [{level: Total}]
    rows: [{variable: SEX, levels: ard, cell: "{n}"}]
""" + HEAD.format(id="14.9.5", file="bad_grades") + """
    analysis: {kind: worst_grade, dataset: ADAE, grade: AETOXGRN, group: ATOXGR, levels: ["1"], where: {AESER: "Y"}}
    columns: [{level: Total}]
    rows: [{variable: TEAE, level: ANY, cell: "{n}"}]
"""
    shells = shells_of(tmp_path, text)
    with pytest.raises(InputError) as caught:
        analyze(AdamData(DATA, study), list(shells.values()))
    found = {p.key: p for p in caught.value.problems}
    prefix = "id 14.9.4.analysis.layers"
    assert set(found) == {f"{prefix}[0].count", f"{prefix}[1].where", f"{prefix}[2].events", f"{prefix}[3].dataset",
                          f"{prefix}[4].describe", f"{prefix}[5].denominator.where", "id 14.9.5.analysis.grade",
                          "id 14.9.5.analysis.where"}
    assert all(p.file.endswith("shells.yaml") for p in found.values())
    assert "adsl.xpt has no variable SEXX" in found[f"{prefix}[0].count"].message
    assert "gte" in found[f"{prefix}[1].where"].message
    assert "adae.xpt has no variable PTX" in found[f"{prefix}[2].events"].message
    assert "ADXX is not in the ADaM data" in found[f"{prefix}[3].dataset"].message
    assert "not numeric" in found[f"{prefix}[4].describe"].message
    assert "SAFLF" in found[f"{prefix}[5].denominator.where"].message
    assert "AETOXGRN" in found["id 14.9.5.analysis.grade"].message and \
        "AESER" in found["id 14.9.5.analysis.where"].message


def test_a_count_of_several_records_per_subject_needs_worst(tmp_path, study):
    text = HEAD.format(id="14.9.6", file="twice") + """
    analysis: {kind: summary, layers: [{count: GRADE, dataset: ADAE, value: ATOXGR}]}
    columns: [{level: Total}]
    rows: [{variable: GRADE, levels: ard, cell: "{n}"}]
"""
    with pytest.raises(DataCheckError) as caught:
        analyze(AdamData(DATA, study), list(shells_of(tmp_path, text).values()))
    assert {p.key for p in caught.value.problems} == {"S1", "S4"}  # S1 has 3 AEs, S4 2; S2's one is fine


def test_a_population_without_flag_is_every_adsl_subject(tmp_path, study):
    head = HEAD.format(id="14.9.7", file="everyone").replace("{label: Treated, flag: SAFFL}", "{label: All}")
    text = head + """
    analysis: {kind: summary, layers: [{count: SEX, levels: [M, F]}]}
    columns: [{level: Total}]
    rows: [{variable: SEX, levels: ard, cell: "{n}"}]
"""
    ard = analyze(AdamData(DATA, study), list(shells_of(tmp_path, text).values()))["14.9.7"]
    assert cells(ard, "BIGN", "", "N") == {"Total": 6}  # S6 (SAFFL N) too
    assert cells(ard, "SEX", "M", "n") == {"Total": 3}  # S1 S3 S6
