"""Comparisons between arms in the TLF kinds (submit/tlf/analysis/comparisons.py), each against a
reference from outside the code: R's survival (survdiff, coxph ties = "breslow") on the same
pairwise subsets for the time-to-event table; Newcombe (1998, Stat Med 17:873, Table II, example
56/70 vs 48/80) for the difference in proportions; scipy for Fisher's exact and the one-stratum
CMH test (Pearson's chi-square times (N - 1) / N)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps

from submit.errors import InputError
from submit.tlf.analysis import AdamData, analyze
from submit.tlf.shell import AnalysisRef
from test_stats_compare import rscript, run_r  # noqa: F401  (rscript: the fixture skipping without R)
from test_tlf_kinds_b import shells_of

ARMS = ("Placebo", "Low", "High")
SHELLS = """
outputs:
  - id: "14.8.1"
    file: t_compare_tte
    kind: table
    title: [Time to event]
    population: {label: Randomized, flag: RANDFL}
    datasets: [ADSL, ADTTE]
    analysis: {kind: time_to_event, where: {PARAMCD: OS}, variable: OS, columns: {by: [TRT01A], total: false},
               compare: {reference: Placebo}}
    columns: [{group: TRT01A}]
    absent_text: ""
    rows:
      - {variable: OS, label: "HR (95% CI)", cell: "{hr:d2} ({hr_ci_low:d2}, {hr_ci_high:d2})"}
  - id: "14.8.2"
    file: t_compare_rate
    kind: table
    title: [Response]
    population: {label: Randomized, flag: RANDFL}
    datasets: [ADSL, ADRS]
    analysis:
      kind: summary
      columns: {by: [TRT01A], total: true}
      layers:
        - {count: RSP, dataset: ADRS, value: AVALC, levels: ["Y"], compare: {reference: Placebo}}
    columns: [{group: TRT01A}, {level: Total}]
    absent_text: ""
    rows:
      - {variable: RSP, level: "Y", label: "Difference (95% CI)", cell: "{diff:pct1} ({diff_ci_low:pct1}, {diff_ci_high:pct1})"}
"""


def survival_data(seed: int = 15) -> tuple[pd.DataFrame, pd.DataFrame]:
    """90 randomized subjects in 3 arms and 2 strata, event times in whole weeks (many ties)."""
    rng = np.random.default_rng(seed)
    n = 90
    arm = np.repeat(ARMS, n // 3)
    stratum = rng.choice(["<65", ">=65"], n)
    hazard = np.select([arm == "Low", arm == "High"], [0.7, 0.45], 1.0) * np.where(stratum == "<65", 1.0, 1.6)
    time = np.ceil(rng.exponential(200 / hazard) / 7) * 7
    cnsr = (rng.random(n) < 0.3).astype(float)
    ids = [f"S{i:03d}" for i in range(n)]
    adsl = pd.DataFrame({"USUBJID": ids, "RANDFL": "Y", "TRT01A": arm, "STRATUM": stratum})
    adtte = pd.DataFrame({"USUBJID": ids, "PARAMCD": "OS", "AVAL": time, "CNSR": cnsr})
    return adsl, adtte


@pytest.fixture(scope="module")
def shells(tmp_path_factory):
    return shells_of(SHELLS, tmp_path_factory.mktemp("shells"))


def stat(ard: pd.DataFrame, level: str, name: str, variable_level: str = "") -> float:
    hit = ard[(ard["group_level"] == level) & (ard["stat_name"] == name) & (ard["variable_level"] == variable_level)]
    assert len(hit) == 1, (level, name)
    return float(hit["stat"].iloc[0])


R_PAIRWISE = """
d <- read.csv(DATA)
d$event <- 1 - d$CNSR
for (arm in c("Low", "High")) {
  p <- subset(d, TRT01A %in% c("Placebo", arm))
  p$g <- relevel(factor(p$TRT01A), "Placebo")
  for (stratified in c(FALSE, TRUE)) {
    f <- if (stratified) Surv(AVAL, event) ~ g + strata(STRATUM) else Surv(AVAL, event) ~ g
    tag <- paste0(arm, if (stratified) ".strat" else "")
    s <- survdiff(f, data = p)
    emit(paste0(tag, ".logrank_p"), pchisq(s$chisq, 1, lower.tail = FALSE))
    m <- coxph(f, data = p, ties = "breslow")
    ci <- summary(m)$conf.int
    emit(paste0(tag, ".hr"), c(ci[1, "exp(coef)"], ci[1, "lower .95"], ci[1, "upper .95"],
                               summary(m)$coefficients[1, "Pr(>|z|)"]))
  }
}
"""


@pytest.mark.parametrize("strata", [(), ("STRATUM",)], ids=["unstratified", "stratified"])
def test_hazard_ratio_and_log_rank_p_of_each_arm_match_r(rscript, tmp_path, study, shells, strata):  # noqa: F811
    adsl, adtte = survival_data()
    r = run_r(rscript, tmp_path, R_PAIRWISE, adsl.merge(adtte, on="USUBJID"))
    compare = {"reference": "Placebo", "strata": list(strata)}
    shell = shells["14.8.1"].model_copy(update={"analysis": AnalysisRef(
        kind="time_to_event", where={"PARAMCD": "OS"}, variable="OS", columns={"by": ["TRT01A"], "total": False},
        compare=compare)})
    ard = analyze(AdamData({"ADSL": adsl, "ADTTE": adtte}, study), [shell])["14.8.1"]
    for arm in ("Low", "High"):
        tag = f"{arm}.strat" if strata else arm
        ours = [stat(ard, arm, name) for name in ("hr", "hr_ci_low", "hr_ci_high", "hr_p")]
        np.testing.assert_allclose(ours, r[f"{tag}.hr"], rtol=1e-6)
        np.testing.assert_allclose(stat(ard, arm, "logrank_p"), r[f"{tag}.logrank_p"][0], rtol=1e-6)
    assert not ard[(ard["group_level"] == "Placebo") & ard["stat_name"].isin(["hr", "logrank_p"])].any(axis=None)
    assert ard.loc[ard["stat_name"] == "hr", "stat_label"].eq("Hazard ratio").all()


def rate_data(arm_yes: int, arm_n: int, ref_yes: int, ref_n: int) -> AdamData:
    ids = [f"S{i:03d}" for i in range(arm_n + ref_n)]
    arm = ["High"] * arm_n + ["Placebo"] * ref_n
    answer = ["Y"] * arm_yes + ["N"] * (arm_n - arm_yes) + ["Y"] * ref_yes + ["N"] * (ref_n - ref_yes)
    adsl = pd.DataFrame({"USUBJID": ids, "RANDFL": "Y", "TRT01A": arm})
    return adsl, pd.DataFrame({"USUBJID": ids, "AVALC": answer})


def rate_ard(study, shells, adsl, adrs, **compare) -> pd.DataFrame:
    shell = shells["14.8.2"].model_copy(update={"analysis": AnalysisRef(
        kind="summary", columns={"by": ["TRT01A"], "total": True},
        layers=[{"count": "RSP", "dataset": "ADRS", "value": "AVALC", "levels": ["Y"],
                 "compare": {"reference": "Placebo", **compare}}])})
    return analyze(AdamData({"ADSL": adsl, "ADRS": adrs}, study), [shell])["14.8.2"]


@pytest.mark.parametrize("method, published", [("miettinen-nurminen", (0.0528, 0.3382)),
                                               ("newcombe", (0.0524, 0.3339))])
def test_difference_in_response_rates_reproduces_newcombe_table_ii(study, shells, method, published):
    adsl, adrs = rate_data(56, 70, 48, 80)
    ard = rate_ard(study, shells, adsl, adrs, method=method)
    assert stat(ard, "High", "diff", "Y") == pytest.approx(56 / 70 - 48 / 80, abs=1e-12)
    # published to 4 decimals: within half a unit of the last digit
    assert stat(ard, "High", "diff_ci_low", "Y") == pytest.approx(published[0], abs=5e-5)
    assert stat(ard, "High", "diff_ci_high", "Y") == pytest.approx(published[1], abs=5e-5)
    assert not (ard["stat_name"].eq("diff") & ard["group_level"].isin(["Placebo", "Total"])).any()


def test_rate_p_values_match_scipy_fisher_and_one_stratum_cmh(study, shells):
    adsl, adrs = rate_data(12, 30, 5, 28)
    table = np.array([[12, 18], [5, 23]])
    fisher = rate_ard(study, shells, adsl, adrs, test="fisher")
    assert stat(fisher, "High", "p_value", "Y") == pytest.approx(sps.fisher_exact(table)[1], rel=1e-9)
    cmh = rate_ard(study, shells, adsl, adrs)  # default: CMH, one stratum without strata
    chi2 = sps.chi2_contingency(table, correction=False)[0] * (table.sum() - 1) / table.sum()
    assert stat(cmh, "High", "p_value", "Y") == pytest.approx(sps.chi2.sf(chi2, 1), rel=1e-9)


def test_a_reference_that_is_no_column_is_named(study, shells):
    adsl, adrs = rate_data(3, 5, 2, 5)
    shell = shells["14.8.2"].model_copy(update={"analysis": AnalysisRef(
        kind="summary", columns={"by": ["TRT01A"]},
        layers=[{"count": "RSP", "dataset": "ADRS", "value": "AVALC", "levels": ["Y"],
                 "compare": {"reference": "Placebo arm"}}])})
    with pytest.raises(InputError) as caught:
        analyze(AdamData({"ADSL": adsl, "ADRS": adrs}, study), [shell])
    problem = caught.value.problems[0]
    assert problem.key == "compare.reference" and "'Placebo arm' is not a level" in problem.message
    assert "High, Placebo" in problem.message


def test_change_from_baseline_ancova_by_visit_matches_an_ols_fit(study, shells):
    """The LS mean difference at a visit is the arm's coefficient of CHG ~ arm + BASE (numeric
    covariate only: no balancing), fitted here with statsmodels' formula interface; the LS mean of
    the reference arm is the prediction at the mean BASE."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(7)
    n = 60
    ids = [f"S{i:03d}" for i in range(n)]
    arm = np.repeat(ARMS, n // 3)
    base = rng.normal(140, 12, n)
    adsl = pd.DataFrame({"USUBJID": ids, "RANDFL": "Y", "TRT01A": arm})
    visits = []
    for week, shift in ((2, 1.0), (4, 2.0)):
        effect = np.select([arm == "Low", arm == "High"], [-3.0, -6.0], 0.0) * shift
        chg = effect - 0.2 * (base - 140) + rng.normal(0, 5, n)
        visits.append(pd.DataFrame({"USUBJID": ids, "AVISIT": f"Week {week}", "AVISITN": week,
                                    "AVAL": base + chg, "BASE": base, "CHG": chg}))
    advs = pd.concat(visits, ignore_index=True)
    advs.loc[3, "CHG"] = np.nan  # an incomplete record is left out of the model
    shell = shells["14.8.1"].model_copy(update={"analysis": AnalysisRef(
        kind="by_visit", dataset="ADVS", visit="AVISIT", values=["CHG"], columns={"by": ["TRT01A"], "total": False},
        compare={"reference": "Placebo", "value": "CHG", "covariates": ["BASE"]})})
    ard = analyze(AdamData({"ADSL": adsl, "ADVS": advs}, study), [shell])["14.8.1"]
    for week in (2, 4):
        rows = advs[(advs["AVISITN"] == week)].merge(adsl, on="USUBJID").dropna(subset=["CHG"])
        fit = smf.ols("CHG ~ C(TRT01A, Treatment('Placebo')) + BASE", data=rows).fit()
        for name in ("Low", "High"):
            term = f"C(TRT01A, Treatment('Placebo'))[T.{name}]"
            low, high = fit.conf_int().loc[term]
            assert stat(ard, name, "lsmean_diff", f"Week {week}") == pytest.approx(fit.params[term], rel=1e-9)
            assert stat(ard, name, "lsmean_diff_ci_low", f"Week {week}") == pytest.approx(low, rel=1e-9)
            assert stat(ard, name, "lsmean_diff_ci_high", f"Week {week}") == pytest.approx(high, rel=1e-9)
            assert stat(ard, name, "p_value", f"Week {week}") == pytest.approx(fit.pvalues[term], rel=1e-6)
        placebo = fit.predict(pd.DataFrame({"TRT01A": ["Placebo"], "BASE": [rows["BASE"].mean()]}))[0]
        assert stat(ard, "Placebo", "lsmean", f"Week {week}") == pytest.approx(placebo, rel=1e-9)
        assert stat(ard, "Placebo", "n", f"Week {week}") == len(rows[rows["TRT01A"] == "Placebo"])


def test_adverse_event_incidence_per_term_is_compared_with_fisher(study, shells):
    # 10 subjects per arm; Nausea: 6 High vs 1 Placebo (one subject twice); Rash: 0 vs 3
    ids = [f"S{i:02d}" for i in range(20)]
    adsl = pd.DataFrame({"USUBJID": ids, "RANDFL": "Y", "TRT01A": ["High"] * 10 + ["Placebo"] * 10})
    terms = [("S00", "Nausea"), ("S01", "Nausea"), ("S02", "Nausea"), ("S03", "Nausea"), ("S04", "Nausea"),
             ("S05", "Nausea"), ("S05", "Nausea"), ("S10", "Nausea"), ("S11", "Rash"), ("S12", "Rash"),
             ("S13", "Rash")]
    adae = pd.DataFrame(terms, columns=["USUBJID", "AEDECOD"]).assign(AEBODSYS="GI", TRTEMFL="Y")
    adae.loc[adae["AEDECOD"] == "Rash", "AEBODSYS"] = "SKIN"
    shell = shells["14.8.2"].model_copy(update={"analysis": AnalysisRef(
        kind="summary", columns={"by": ["TRT01A"], "total": True},
        layers=[{"events": ["AEBODSYS", "AEDECOD"], "dataset": "ADAE", "where": {"TRTEMFL": "Y"},
                 "compare": {"reference": "Placebo"}}])})
    ard = analyze(AdamData({"ADSL": adsl, "ADAE": adae}, study), [shell])["14.8.2"]
    assert stat(ard, "High", "p_value", "GI | Nausea") == pytest.approx(sps.fisher_exact([[6, 4], [1, 9]])[1])
    assert stat(ard, "High", "p_value", "SKIN | Rash") == pytest.approx(sps.fisher_exact([[0, 10], [3, 7]])[1])
    assert stat(ard, "High", "diff", "SKIN") == pytest.approx(0 - 0.3)
    assert not ard[ard["group_level"].isin(["Placebo", "Total"]) & (ard["stat_name"] == "p_value")].size
