"""The generic kinds `shift` and `by_visit`: hand counts on made-up tiny ADaM, and the pharmaverse
study's numbers recomputed from admiral's ADaM (pharmaverseadam) with plain pandas."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from submit.errors import DataCheckError, InputError
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.params import ColumnsSpec
from submit.tlf.analysis.registry import ANALYSES, analyze
from submit.tlf.analysis.shift import shift
from submit.tlf.analysis.visits import by_visit
from submit.tlf.shell import AnalysisRef

BY_ARM = ColumnsSpec.model_validate({"by": ["TRT01A"], "total": False})


def shell_of(analysis: dict | None = None, flag: str | None = "SAFFL"):
    return SimpleNamespace(id="14.9.9", source="tiny.yaml", population=SimpleNamespace(flag=flag),
                           analysis=AnalysisRef.model_validate(analysis) if analysis else None)


def cell(ard: pd.DataFrame, group_level: str, variable: str, level: str) -> dict[str, float]:
    rows = ard[(ard.group_level == group_level) & (ard.variable == variable) & (ard.variable_level == level)]
    assert rows.stat_name.is_unique
    return dict(zip(rows.stat_name, rows.stat))


ADSL = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4", "S5"], "TRT01A": ["A", "A", "B", "B", "B"],
                     "SAFFL": ["Y", "Y", "Y", "N", "Y"]})
ADLB = pd.DataFrame.from_records([
    # USUBJID, PARAMCD, BNRIND, ANRIND, ADT (day), ANL01FL
    ("S1", "ALT", "NORMAL", "NORMAL", 1, "Y"), ("S1", "ALT", "NORMAL", "HIGH", 2, "Y"),
    ("S1", "ALT", "NORMAL", "LOW", 3, "Y"), ("S1", "ALT", "NORMAL", "HIGH", 4, ""),  # not analysed
    ("S2", "ALT", "LOW", "NORMAL", 1, "Y"),
    ("S3", "ALT", "", "HIGH", 1, "Y"), ("S3", "ALT", "", "", 2, "Y"),
    ("S4", "ALT", "NORMAL", "HIGH", 1, "Y"),  # not in the population
    ("S5", "AST", "NORMAL", "LOW", 1, "Y"), ("S1", "AST", "HIGH", "HIGH", 1, "Y"),
], columns=["USUBJID", "PARAMCD", "BNRIND", "ANRIND", "ADT", "ANL01FL"])
SHIFT = dict(baseline="BNRIND", post="ANRIND", levels=("LOW", "NORMAL", "HIGH"), dataset="ADLB",
             where={"ANL01FL": "Y"}, parameter="PARAMCD", columns=BY_ARM)


def tiny(**frames) -> AdamData:
    return AdamData({"ADSL": ADSL, **frames}, study=None)


def test_shift_to_worst_counts_each_subject_once_per_parameter():
    ard = shift(tiny(ADLB=ADLB), shell_of(), post_rule="worst", worst=("HIGH", "LOW"), **SHIFT)
    # arm A, ALT: S1 NORMAL -> HIGH (worst of NORMAL, HIGH, LOW), S2 LOW -> NORMAL; N = 2
    assert cell(ard, "A | HIGH", "ALT", "NORMAL") == {"n": 1, "N": 2, "p": 0.5}
    assert cell(ard, "A | NORMAL", "ALT", "LOW") == {"n": 1, "N": 2, "p": 0.5}
    assert cell(ard, "A | LOW", "ALT", "HIGH") == {"n": 0, "N": 2, "p": 0.0}
    assert cell(ard, "A | Total", "ALT", "NORMAL")["n"] == 1 and cell(ard, "A | HIGH", "ALT", "Total")["n"] == 1
    assert cell(ard, "A | Total", "ALT", "Total") == {"n": 2, "N": 2, "p": 1.0}
    # arm B, ALT: S3 blank baseline -> HIGH (a blank value ranks last); S4 is not in the population
    assert cell(ard, "B | HIGH", "ALT", "Missing") == {"n": 1, "N": 1, "p": 1.0}
    assert cell(ard, "B | Total", "ALT", "NORMAL")["n"] == 0
    # AST: S1 HIGH -> HIGH in A; S5 NORMAL -> LOW in B
    assert cell(ard, "A | HIGH", "AST", "HIGH")["n"] == 1 and cell(ard, "B | LOW", "AST", "NORMAL")["n"] == 1
    # the columns: arm x post category; BIGN = the arm's population subjects (S3, S5 in B)
    groups = ard[["group", "group_level"]].drop_duplicates()
    assert set(groups.group) == {"TRT01A | ANRIND"}
    assert groups.group_level.tolist() == [f"{a} | {c}" for a in "AB" for c in ("LOW", "NORMAL", "HIGH", "Missing", "Total")]
    assert ard[ard.variable == "BIGN"].groupby("group_level").stat.first().to_dict() == {
        f"{a} | {c}": n for a, n in (("A", 2), ("B", 2)) for c in ("LOW", "NORMAL", "HIGH", "Missing", "Total")}
    # every arm x parameter x baseline x post cell is present: 2 x 2 x 5 x 5
    assert len(ard[(ard.variable != "BIGN") & (ard.stat_name == "n")]) == 2 * 2 * 5 * 5


def test_shift_to_last_value_and_without_parameter():
    ard = shift(tiny(ADLB=ADLB[ADLB.PARAMCD == "ALT"]), shell_of(), post_rule="last",
                **{**SHIFT, "parameter": None})
    assert set(ard.variable) == {"BIGN", "BNRIND"}  # rows named by the baseline variable
    assert cell(ard, "A | LOW", "BNRIND", "NORMAL")["n"] == 1   # S1: last analysed value (day 3) LOW
    assert cell(ard, "A | HIGH", "BNRIND", "NORMAL")["n"] == 0
    assert cell(ard, "B | Missing", "BNRIND", "Missing")["n"] == 1  # S3: last value blank


def test_shift_leaves_blank_values_out_when_missing_is_null():
    ard = shift(tiny(ADLB=ADLB), shell_of(), worst=("HIGH", "LOW"), missing=None, **SHIFT)
    assert cell(ard, "B | Total", "ALT", "Total") == {"n": 0, "N": 0, "p": pytest.approx(float("nan"), nan_ok=True)}
    assert not ard.group_level.str.endswith("Missing").any()


def test_shift_reports_every_specification_and_data_problem_at_once():
    with pytest.raises(InputError) as err:
        shift(tiny(ADLB=ADLB), shell_of(), post_rule="worst", worst=("HIGH", "ABNORMAL"), missing="LOW", **SHIFT)
    assert [p.key for p in err.value.problems] == ["worst", "missing"]
    odd = ADLB.assign(ANRIND=ADLB.ANRIND.replace("LOW", "ABNORMAL"))
    with pytest.raises(InputError, match="do not cover") as err:
        shift(tiny(ADLB=odd), shell_of(), worst=("HIGH",), **SHIFT)
    assert "'ABNORMAL'" in err.value.problems[0].message and err.value.problems[0].column == "ANRIND"


def test_shift_and_by_visit_are_registered_and_their_parameters_checked():
    assert ANALYSES["shift"] is shift and ANALYSES["by_visit"] is by_visit
    bad = shell_of({"kind": "by_visit", "visit": "AVISIT", "stats": ["mean", "mode"], "colour": "red"})
    with pytest.raises(InputError) as err:
        analyze(tiny(), [bad])
    assert sorted(p.key for p in err.value.problems) == ["id 14.9.9.analysis.colour", "id 14.9.9.analysis.stats"]


ADVS = pd.DataFrame.from_records([
    # USUBJID, PARAMCD, AVISIT, AVISITN, AVAL, CHG
    ("S1", "SYSBP", "Baseline", 0, 120, np.nan), ("S1", "SYSBP", "Week 2", 2, 130, 10),
    ("S2", "SYSBP", "Baseline", 0, 110, np.nan), ("S2", "SYSBP", "Week 2", 2, 100, -10),
    ("S2", "SYSBP", "Week 4", 4, 105, -5),
    ("S3", "SYSBP", "Baseline", 0, 140, np.nan), ("S3", "SYSBP", "Week 2", 2, 150, 10),
    ("S3", "SYSBP", "Week 10", 10, 135, -5),
    ("S3", "SYSBP", "", np.nan, 99, np.nan),   # no visit: not shown
    ("S4", "SYSBP", "Baseline", 0, 200, np.nan),  # not in the population
    ("S1", "DIABP", "Baseline", 0, 80, np.nan), ("S1", "DIABP", "Week 2", 2, 70, -10),
], columns=["USUBJID", "PARAMCD", "AVISIT", "AVISITN", "AVAL", "CHG"])


def test_by_visit_value_and_change_per_visit_in_visit_order():
    ard = by_visit(tiny(ADVS=ADVS), shell_of(), visit="AVISIT", where={"PARAMCD": "SYSBP"}, columns=BY_ARM,
                   stats=("n", "mean", "sd", "median", "min", "max"))
    assert ard[ard.variable == "AVAL"].variable_level.unique().tolist() == ["Baseline", "Week 2", "Week 4", "Week 10"]
    assert ard[ard.variable == "CHG"].variable_level.unique().tolist() == ["Week 2", "Week 4", "Week 10"]
    week2 = cell(ard, "A", "AVAL", "Week 2")
    assert week2["n"] == 2 and week2["mean"] == 115 and week2["median"] == 115
    assert week2["sd"] == pytest.approx(math.sqrt(15 ** 2 + 15 ** 2))  # (130 - 115)^2 + (100 - 115)^2 over n - 1 = 1
    assert (week2["min"], week2["max"]) == (100, 130)
    assert cell(ard, "B", "AVAL", "Baseline")["n"] == 1 and math.isnan(cell(ard, "B", "AVAL", "Baseline")["sd"])
    assert cell(ard, "B", "CHG", "Week 4")["n"] == 0  # every column at every visit shown
    assert cell(ard, "A", "CHG", "Week 2")["mean"] == 0
    assert set(ard.stat_name) == {"N", "n", "mean", "sd", "median", "min", "max"}
    assert ard[ard.variable == "BIGN"].set_index("group_level").stat.to_dict() == {"A": 2, "B": 2}


def test_by_visit_with_parameter_names_the_variable_by_parameter_and_value():
    ard = by_visit(tiny(ADVS=ADVS), shell_of(), visit="AVISIT", parameter="PARAMCD", values=("AVAL",),
                   columns=BY_ARM, stats=("n", "mean"))
    assert set(ard.variable) == {"BIGN", "DIABP | AVAL", "SYSBP | AVAL"}
    assert cell(ard, "A", "DIABP | AVAL", "Week 2") == {"n": 1, "mean": 70}


def test_by_visit_refuses_two_records_of_one_subject_and_visit():
    twice = pd.concat([ADVS, ADVS.iloc[[1]]], ignore_index=True)
    with pytest.raises(DataCheckError) as err:
        by_visit(tiny(ADVS=twice), shell_of(), visit="AVISIT", where={"PARAMCD": "SYSBP"}, columns=BY_ARM)
    assert [p.message.split(":")[0] for p in err.value.problems] == ["USUBJID=S1, AVISIT=Week 2"]


# pharmaverse: admiral's ADaM as the data, the numbers recomputed here with plain pandas -------------

ARMS = ["Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"]


@pytest.fixture(scope="module")
def admiral():
    from pharmaverse import reference

    def text_blank(df: pd.DataFrame) -> pd.DataFrame:
        return df.apply(lambda c: c.fillna("") if c.dtype == object or pd.api.types.is_string_dtype(c) else c)

    return {name: text_blank(reference(name)) for name in ("ADSL", "ADLB", "ADVS")}


def test_lab_shift_of_alt_matches_plain_pandas_on_pharmaverse(admiral):
    adsl, adlb = admiral["ADSL"], admiral["ADLB"]
    ard = shift(AdamData(admiral, study=None), shell_of(), worst=("HIGH", "LOW"), post_rule="worst",
                **{**SHIFT, "where": {"PARAMCD": "ALT", "ANL01FL": "Y", "DTYPE": {"present": False}}})
    safety = adsl.loc[adsl.SAFFL == "Y", ["USUBJID", "TRT01A"]]
    alt = adlb[adlb.PARAMCD == "ALT"]
    post = alt.loc[(alt.ANL01FL == "Y") & (alt.DTYPE == ""), ["USUBJID", "ANRIND"]].merge(safety, on="USUBJID")
    worst = post.groupby("USUBJID").ANRIND.agg(lambda v: "HIGH" if (v == "HIGH").any() else
                                               "LOW" if (v == "LOW").any() else
                                               "NORMAL" if (v == "NORMAL").any() else "Missing")
    base = alt[alt.ABLFL == "Y"].set_index("USUBJID").BNRIND.replace("", "Missing")
    subjects = post.drop_duplicates("USUBJID").set_index("USUBJID").TRT01A.to_frame()
    subjects["post"], subjects["base"] = worst, base.reindex(subjects.index).fillna("Missing")
    expected = subjects.groupby(["TRT01A", "base", "post"]).size()
    arms_n = subjects.TRT01A.value_counts()
    for (arm, b, p), n in expected.items():
        assert cell(ard, f"{arm} | {p}", "ALT", b) == pytest.approx({"n": n, "N": arms_n[arm], "p": n / arms_n[arm]})
    shown = ard[(ard.stat_name == "n") & (ard.variable == "ALT") & ~ard.group_level.str.endswith("| Total")
                & (ard.variable_level != "Total")]
    assert shown.stat.sum() == len(subjects) and expected.sum() == len(subjects) > 200


def test_vital_signs_week_2_mean_matches_plain_pandas_on_pharmaverse(admiral):
    adsl, advs = admiral["ADSL"], admiral["ADVS"]
    where = {"PARAMCD": "SYSBP", "ATPTN": 815, "any": [{"ABLFL": "Y"}, {"ANL01FL": "Y"}]}
    ard = by_visit(AdamData(admiral, study=None), shell_of(), visit="AVISIT", where=where, columns=BY_ARM)
    records = advs.loc[(advs.PARAMCD == "SYSBP") & (advs.ATPTN == 815) & (advs.AVISIT == "Week 2")
                       & (advs.ANL01FL == "Y"), ["USUBJID", "AVAL", "CHG"]]
    week2 = records.merge(adsl.loc[adsl.SAFFL == "Y", ["USUBJID", "TRT01A"]], on="USUBJID").groupby("TRT01A")
    for arm in ARMS:
        assert cell(ard, arm, "AVAL", "Week 2")["n"] == week2.AVAL.count()[arm] > 50
        assert cell(ard, arm, "AVAL", "Week 2")["mean"] == pytest.approx(week2.AVAL.mean()[arm], rel=1e-12)
        assert cell(ard, arm, "CHG", "Week 2")["sd"] == pytest.approx(week2.CHG.std()[arm], rel=1e-12)


def test_pharmaverse_shells_load_with_the_csr_core_set():
    from pathlib import Path

    from submit.tlf.shell import load_shells

    folder = Path(__file__).resolve().parents[1] / "specs" / "pharmaverse" / "tlf"
    shells = load_shells(folder)
    kinds = {s.analysis.kind for s in shells}
    assert {"shift", "by_visit", "summary", "worst_grade", "time_to_event", "km_figure", "listing"} <= kinds
    assert len(shells) >= 12


RENDERED = """
outputs:
  - id: "14.9.7"
    file: t_made_up_shift
    kind: table
    title: [Made-up shift]
    population: {label: Safety, flag: SAFFL}
    datasets: [ADSL, ADLB]
    analysis: {kind: shift, dataset: ADLB, where: {ANL01FL: "Y"}, parameter: PARAMCD, baseline: BNRIND,
               post: ANRIND, levels: [LOW, NORMAL, HIGH], post_rule: worst, worst: [HIGH, LOW],
               columns: {by: [TRT01A], total: false}}
    columns:
      - {group: "TRT01A | ANRIND", label: "{{ path[1] }}", span: "Arm {{ path[0] }}", show_n: false}
    rows:
      - {variable: ALT, label: ALT, levels: [LOW, NORMAL, HIGH, Missing, Total], cell: "{n} ({p:pct0})"}
  - id: "14.9.8"
    file: t_made_up_visits
    kind: table
    title: [Made-up vital signs]
    population: {label: Safety, flag: SAFFL}
    datasets: [ADSL, ADVS]
    analysis: {kind: by_visit, dataset: ADVS, where: {PARAMCD: SYSBP}, visit: AVISIT, columns: {by: [TRT01A], total: false}}
    columns: [{group: TRT01A}]
    rows:
      - {variable: AVAL, label: "Systolic BP", levels: ard, stats: [{label: n, cell: "{n}"}, {label: Mean, cell: "{mean:d1}"}]}
"""


def test_made_up_shift_and_by_visit_shells_render(tmp_path):
    import datetime as dt

    from docx import Document

    from submit.tlf.package import write_tlf_package
    from submit.tlf.shell import load_shells
    from submit.tlf.text import TlfContext

    (tmp_path / "shells").mkdir()
    (tmp_path / "shells" / "made_up.yaml").write_text(RENDERED)
    shells = load_shells(tmp_path / "shells")
    study = SimpleNamespace(study=SimpleNamespace(id="TINY", sponsor="Nobody", registry_id=None),
                            dates=SimpleNamespace(data_cutoff="2020-01-01"))
    results = analyze(tiny(ADLB=ADLB, ADVS=ADVS), shells)
    write_tlf_package(shells, results, tmp_path / "out", TlfContext(study=study, build_date=dt.date(2026, 1, 1)))
    shift_cells = [c.text.strip() for t in Document(str(tmp_path / "out" / "t_made_up_shift.docx")).tables
                   for row in t.rows for c in row.cells]
    assert "Arm A" in shift_cells and "1 (50)" in shift_cells  # S1 NORMAL -> HIGH of the 2 subjects of arm A
    visit_cells = [c.text.strip() for t in Document(str(tmp_path / "out" / "t_made_up_visits.docx")).tables
                   for row in t.rows for c in row.cells]
    assert "Week 10" in visit_cells and "115.0" in visit_cells  # arm A at week 2: (130 + 100) / 2
