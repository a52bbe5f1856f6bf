"""Comparisons between the arms of a randomized study, as a shell asks for them:

    compare: {reference: Placebo}                       # each other arm against Placebo
    compare: {reference: Placebo, strata: [STRAT1R]}    # stratified (ADSL variables)
    compare: {reference: Placebo, method: newcombe, test: fisher}   # count layers

Each arm of the `columns.by` variable holding the reference level is compared with the reference
arm alone (pairwise: the subjects of those two arms), and its ARD records go in that arm's column
(the reference column and Total get none: shells print `absent_text` there):

* time to event (`time_to_event`): `logrank_p` (log-rank, stratified with strata), `hr`,
  `hr_ci_low`, `hr_ci_high` (Cox proportional hazards, Breslow ties as SAS PROC PHREG, Wald 95% CI,
  stratified with strata) and `hr_p` (Wald);
* a change from baseline by visit (`by_visit`): `lsmean`, `lsmean_ci_low`, `lsmean_ci_high` in
  every arm's column and `lsmean_diff`, `lsmean_diff_ci_low`, `lsmean_diff_ci_high`, `p_value` in
  the compared arms' (ANCOVA of the `value` on the arm and the `covariates` of the record, e.g. BASE,
  plus the strata as categorical covariates; one model per visit over all arms; LS means as SAS's
  LSMEANS default);
* an incidence (`summary` events layer, e.g. TEAE by SOC and PT): `diff`, `diff_ci_low`,
  `diff_ci_high` and Fisher's exact `p_value` per level, from the subject counts and column Ns;
* a rate (`summary` count layer): `diff`, `diff_ci_low`, `diff_ci_high` (proportion in the arm
  minus the reference, 95% CI by `method`: Miettinen-Nurminen score by default, or Newcombe's
  hybrid score, or Wald) and `p_value` of `test` (CMH: Cochran-Mantel-Haenszel, over the strata
  when given, no continuity correction as SAS PROC FREQ; fisher: Fisher's exact two-sided).

The numbers come from `submit.stats.compare`, tested against R's survival and base stats.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.stats.compare import ancova, cmh_test_records, cox_ph, fisher_exact_rows, log_rank, proportion_differences
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.params import Name, _Params
from submit.tlf.analysis.summary import LONG_COLUMNS, Columns, long_rows

STAT_LABELS = {
    "logrank_p": "Log-rank test p-value",
    "hr": "Hazard ratio",
    "hr_ci_low": "Hazard ratio 95% CI lower limit",
    "hr_ci_high": "Hazard ratio 95% CI upper limit",
    "hr_p": "Hazard ratio Wald test p-value",
    "diff": "Difference in proportions",
    "diff_ci_low": "Difference in proportions 95% CI lower limit",
    "diff_ci_high": "Difference in proportions 95% CI upper limit",
    "p_value": "p-value",
    "lsmean": "LS mean",
    "lsmean_ci_low": "LS mean 95% CI lower limit",
    "lsmean_ci_high": "LS mean 95% CI upper limit",
    "lsmean_diff": "LS mean difference",
    "lsmean_diff_ci_low": "LS mean difference 95% CI lower limit",
    "lsmean_diff_ci_high": "LS mean difference 95% CI upper limit",
}


class Comparison(_Params):
    reference: str  # the reference arm: a level of a `columns.by` variable
    strata: tuple[Name, ...] = ()  # ADSL stratification variables
    method: Literal["miettinen-nurminen", "newcombe", "wald"] = "miettinen-nurminen"  # rates
    test: Literal["cmh", "fisher"] = "cmh"  # rates


class IncidenceComparison(Comparison):
    """Subjects with events per level (several levels per subject): Fisher's exact test, unstratified."""

    strata: tuple[()] = ()
    test: Literal["fisher"] = "fisher"


class VisitComparison(Comparison):
    value: Name = "CHG"  # the response compared at each visit
    covariates: tuple[Name, ...] = ("BASE",)  # variables of the same record


def arms(columns: Columns, comparison: Comparison, what: str) -> tuple[int, list[int]]:
    """(the reference column, the columns compared with it): the other levels of its group."""
    labels = columns.labels
    found = labels.index[labels["group_level"] == comparison.reference]
    if len(found) != 1 or not labels.at[found[0], "group"]:
        levels = ", ".join(labels.loc[labels["group"] != "", "group_level"])
        raise InputError(f"{what}: the reference arm is not a column",
                         [Problem(what, f"reference {comparison.reference!r} is not a level of a columns.by "
                                        f"variable (levels: {levels or 'none'})", key="compare.reference")])
    reference = int(found[0])
    group = labels.at[reference, "group"]
    return reference, [int(c) for c in labels.index[(labels["group"] == group) & (labels.index != reference)]]


def _strata(data: AdamData, comparison: Comparison, subjects: pd.Series) -> np.ndarray | None:
    """One stratum label per subject (the strata variables joined), or None when unstratified."""
    if not comparison.strata:
        return None
    adsl = data.frame("ADSL", ["USUBJID", *comparison.strata]).set_index("USUBJID")
    values = adsl.reindex(subjects.to_numpy())
    return values.astype(str).agg(" / ".join, axis=1).to_numpy()


def survival_comparisons(data: AdamData, columns: Columns, found: pd.DataFrame, variable: str,
                         comparison: Comparison, what: str) -> pd.DataFrame:
    """Long rows (col, variable, "", stat) of the log-rank test and Cox HR of each arm against the
    reference, from the records `found` (USUBJID, AVAL, CNSR) of the analysis set."""
    reference, compared = arms(columns, comparison, what)
    stacked = columns.attach(found)
    parts = []
    for col in compared:  # a handful of arms, never subjects
        pair = stacked[stacked["col"].isin([reference, col])]
        arm = np.where(pair["col"] == reference, "reference", "arm")
        time, event = pair["AVAL"].to_numpy(float), 1 - pair["CNSR"].to_numpy(float)
        strata = _strata(data, comparison, pair["USUBJID"])
        found = {name: np.nan for name in ("logrank_p", "hr", "hr_ci_low", "hr_ci_high", "hr_p")}
        # without events the test does not exist, and an arm without events has no finite hazard
        # ratio: not estimable (NE in the table), not an error
        if event.any():
            found["logrank_p"] = log_rank(time, event, arm, strata, source=f"{what}, {variable}").p_value
        if event[arm == "arm"].any() and event[arm == "reference"].any():
            cox = cox_ph(time, event, arm, "reference", strata, source=f"{what}, {variable}").hazard_ratios.iloc[0]
            found |= {"hr": cox["hr"], "hr_ci_low": cox["hr_ci_low"], "hr_ci_high": cox["hr_ci_high"],
                      "hr_p": cox["p_value"]}
        parts.append(long_rows([col], variable, "", {name: [value] for name, value in found.items()}))
    return _joined(parts)


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(LONG_COLUMNS))


def rate_comparisons(data: AdamData, columns: Columns, subjects: pd.DataFrame, variable: str,
                     levels: list[str], comparison: Comparison, what: str) -> pd.DataFrame:
    """Long rows (col, variable, level, stat) comparing, for each of `levels`, the proportion of
    subjects at that level in each arm with the reference arm. `subjects`: one row per subject of
    the rate's denominator (USUBJID, _level; subjects without a level have "")."""
    reference, compared = arms(columns, comparison, what)
    stacked = columns.attach(subjects)
    parts = []
    for col in compared:
        pair = stacked[stacked["col"].isin([reference, col])]
        in_arm = (pair["col"] == col).to_numpy()
        n1, n2 = int(in_arm.sum()), int((~in_arm).sum())
        at = pair["_level"].to_numpy()[:, None] == np.asarray(levels, dtype=object)[None, :]
        x1, x2 = at[in_arm].sum(axis=0), at[~in_arm].sum(axis=0)
        diffs = proportion_differences(x1, np.full(len(levels), n1), x2, np.full(len(levels), n2),
                                       method=comparison.method)
        if comparison.test == "fisher":
            p = fisher_exact_rows(x1, n1, x2, n2)
        else:
            strata = _strata(data, comparison, pair["USUBJID"])
            strata = np.full(len(pair), "all") if strata is None else strata
            arm = np.where(in_arm, "arm", "reference")
            # a level nobody (or everybody) of the two arms has carries no information: no p-value
            p = np.array([cmh_test_records(at[:, i], arm, strata, response=True, reference="reference",
                                           source=f"{what}, {variable} {level}").p_value
                          if 0 < x1[i] + x2[i] < n1 + n2 else np.nan for i, level in enumerate(levels)])
        parts.append(long_rows(np.full(len(levels), col), variable, levels, {
            "diff": diffs["diff"].to_numpy(), "diff_ci_low": diffs["diff_ci_low"].to_numpy(),
            "diff_ci_high": diffs["diff_ci_high"].to_numpy(), "p_value": p}))
    return _joined(parts)


def ancova_comparisons(data: AdamData, columns: Columns, recs: pd.DataFrame, variable: str, visit: str,
                       comparison: VisitComparison, what: str) -> pd.DataFrame:
    """Long rows (col, variable, visit, stat) of one ANCOVA per visit over the arms' records `recs`
    (one per subject and visit: USUBJID, col, `visit`, the value and the covariates). A visit where
    the reference arm or every other arm has no complete record gets no model (NaN: NE)."""
    reference, compared = arms(columns, comparison, what)
    label = columns.labels["group_level"]
    ours = recs[recs["col"].isin([reference, *compared])]
    complete = ours.dropna(subset=[comparison.value, *comparison.covariates])
    parts = []
    for at, group in complete.groupby(visit, sort=False):  # a handful of visits
        present = sorted(set(group["col"]))
        lsmean = {name: np.full(len(present), np.nan) for name in ("lsmean", "lsmean_ci_low", "lsmean_ci_high")}
        diff_cols = [c for c in compared if c in present]
        diffs = {name: np.full(len(diff_cols), np.nan)
                 for name in ("lsmean_diff", "lsmean_diff_ci_low", "lsmean_diff_ci_high", "p_value")}
        if reference in present and diff_cols:
            covariates = {name: group[name].to_numpy() for name in comparison.covariates}
            strata = _strata(data, comparison, group["USUBJID"])
            if strata is not None:
                covariates["_strata"] = pd.Series(strata, dtype=object)
            fit = ancova(group[comparison.value].to_numpy(float), label.to_numpy()[group["col"].to_numpy()],
                         label.iloc[reference], covariates, source=f"{what}, {variable} at {at}")
            means = fit.lsmeans.set_index("level").reindex(label.iloc[present].to_numpy())
            lsmean = {name: means[name].to_numpy(float) for name in lsmean}
            found = fit.differences.set_index("level").reindex(label.iloc[diff_cols].to_numpy())
            diffs = {name: found[name].to_numpy(float) for name in diffs}
        parts.append(long_rows(present, variable, at, lsmean))
        parts.append(long_rows(diff_cols, variable, at, diffs))
    return _joined(parts)


def incidence_comparisons(counts: pd.DataFrame, columns: Columns, comparison: IncidenceComparison,
                          what: str) -> pd.DataFrame:
    """Long rows comparing, per variable and level of the subject counts `counts` (long rows with
    stat `n`), each arm's proportion of its subjects (the column's N) with the reference arm's."""
    reference, compared = arms(columns, comparison, what)
    n = counts[counts["stat_name"] == "n"]
    ref = n[n["col"] == reference].set_index(["variable", "variable_level"])["stat"]
    total = columns.n
    parts = []
    for col in compared:
        arm = n[n["col"] == col]
        x2 = ref.reindex(pd.MultiIndex.from_frame(arm[["variable", "variable_level"]])).fillna(0).to_numpy()
        x1 = arm["stat"].to_numpy()
        n1, n2 = np.full(len(arm), total[col]), np.full(len(arm), total[reference])
        diffs = proportion_differences(x1, n1, x2, n2, method=comparison.method)
        found = pd.DataFrame({"col": col, "variable": arm["variable"].to_numpy(),
                              "variable_level": arm["variable_level"].to_numpy()})
        for name, values in (("diff", diffs["diff"]), ("diff_ci_low", diffs["diff_ci_low"]),
                             ("diff_ci_high", diffs["diff_ci_high"]), ("p_value", fisher_exact_rows(x1, n1, x2, n2))):
            parts.append(found.assign(stat_name=name, stat=np.asarray(values, dtype=float), _k=np.arange(len(arm))))
    if not parts:
        return pd.DataFrame(columns=list(LONG_COLUMNS))
    out = pd.concat(parts, ignore_index=True).sort_values(["_k", "col"], kind="stable")
    return out.drop(columns="_k")[list(LONG_COLUMNS)].reset_index(drop=True)
