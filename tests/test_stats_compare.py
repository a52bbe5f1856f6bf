"""submit.stats comparative statistics against independent references, to 1e-6.

References:
* R `survival` (survdiff, coxph with ties = "breslow") on R's own datasets (lung, veteran, colon,
  exported from R to CSV here so the data are R's) and on a simulated dataset with many ties;
* Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
  comparison of eleven methods", Stat Med 17:873-890, Table II (methods 6 = Miettinen-Nurminen and
  10 = hybrid score), printed to 4 decimals; and to 1e-6 against R base: Wilson limits from
  `prop.test(correct = FALSE)` combined as Newcombe's method 10, and the Miettinen-Nurminen limits
  found by `uniroot` on the score statistic with the restricted MLE maximized numerically by
  `optimize` (a different algorithm from the closed form used by the code);
* R `mantelhaen.test` on `UCBAdmissions`, R `fisher.test`, R `lm` with LS means computed from its
  coefficients and covariance (SAS LSMEANS default: numeric covariates at their mean, categorical
  ones balanced over their levels).
Tests needing R skip, saying why, where `Rscript` or the `survival` package is absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from submit.errors import InputError
from submit.stats import (
    ancova,
    cmh_test,
    cmh_test_records,
    cox_ph,
    fisher_exact_rows,
    log_rank,
    proportion_difference,
    proportion_differences,
)

RTOL = 1e-6

# ------------------------------------------------------------------------------------ R harness

R_PRELUDE = """
suppressPackageStartupMessages(library(survival))
OUT <- commandArgs(trailingOnly = TRUE)[1]
DATA <- commandArgs(trailingOnly = TRUE)[2]
emit <- function(name, x) cat(name, sprintf("%.17g", as.numeric(x)), "\\n", file = OUT, append = TRUE)
"""


@pytest.fixture(scope="module")
def rscript() -> str:
    executable = shutil.which("Rscript")
    if executable is None:
        pytest.skip("R with survival not installed: no Rscript on PATH")
    probe = subprocess.run([executable, "-e", "library(survival)"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"R with survival not installed: {probe.stderr.strip()[:200]}")
    return executable


def run_r(rscript: str, tmp_path: Path, code: str, data: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """Run `code` (after R_PRELUDE; `DATA` is the CSV of `data`, or a path for R to write to) and
    return every `emit(name, values)` as name -> float array."""
    out, csv, script = tmp_path / "r-out.txt", tmp_path / "data.csv", tmp_path / "script.R"
    if data is not None:
        data.to_csv(csv, index=False)
    script.write_text(R_PRELUDE + code)
    out.unlink(missing_ok=True)  # emit() appends
    done = subprocess.run([rscript, str(script), str(out), str(csv)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = {}
    for line in out.read_text().splitlines() if out.exists() else []:
        name, *values = line.split()
        results[name] = np.array([float(v) for v in values])
    return results


# --------------------------------------------------------------------------- survival references

# R datasets (complete cases, event 1 = death) with the group, strata and Cox reference compared.
R_SURVIVAL_DATA = {
    "lung": "transform(lung[, c('time', 'status', 'sex', 'ph.ecog')], event = as.integer(status == 2))",
    "veteran": "transform(veteran, event = status)",
    "colon": "transform(subset(colon, etype == 2)[, c('time', 'status', 'rx', 'sex')], event = status)",
}
# case: (dataset, group, Cox reference level, strata or None)
SURVIVAL_CASES = {
    "lung-sex": ("lung", "sex", 1, None),
    "lung-ecog-by-sex": ("lung", "ph.ecog", 1, "sex"),  # ECOG 3: one subject, a flat likelihood
    "veteran-by-celltype": ("veteran", "trt", 1, "celltype"),
    "colon-3arm": ("colon", "rx", "Obs", None),
    "colon-3arm-by-sex": ("colon", "rx", "Obs", "sex"),
    "ties-3arm": ("ties", "arm", "Placebo", None),
    "ties-3arm-by-stratum": ("ties", "arm", "Placebo", "stratum"),
}

R_SURVIVAL = """
references <- function(case, d, group, reference, strata) {
  d$g <- relevel(factor(d[[group]]), reference)
  if (!is.na(strata)) d$s <- d[[strata]]
  model <- if (is.na(strata)) Surv(time, event) ~ g else Surv(time, event) ~ g + strata(s)
  k <- nlevels(d$g)
  s <- survdiff(model, data = d)
  emit(paste0(case, ".survdiff"), c(s$chisq, k - 1, pchisq(s$chisq, k - 1, lower.tail = FALSE)))
  for (ties in c("breslow", "efron")) {
    f <- coxph(model, data = d, ties = ties)
    ci <- summary(f)$conf.int
    emit(paste0(case, ".", ties, ".hr"), ci[, "exp(coef)"])
    emit(paste0(case, ".", ties, ".low"), ci[, "lower .95"])
    emit(paste0(case, ".", ties, ".high"), ci[, "upper .95"])
    emit(paste0(case, ".", ties, ".p"), summary(f)$coefficients[, "Pr(>|z|)"])
    emit(paste0(case, ".", ties, ".se"), sqrt(diag(vcov(f))))
    emit(paste0(case, ".", ties, ".tests"), c(f$wald.test, 2 * diff(f$loglik), f$score, f$n, f$nevent))
  }
  cat(case, levels(d$g)[-1], "\\n", file = paste0(OUT, ".levels"), append = TRUE)
}
"""


def simulated_with_ties(seed: int = 206) -> pd.DataFrame:
    """Three arms, two strata, integer times (many tied event and censoring times)."""
    rng = np.random.default_rng(seed)
    n = 240
    arm = rng.choice(["Placebo", "Low", "High"], n)
    stratum = rng.choice(["S1", "S2"], n)
    rate = np.select([arm == "Low", arm == "High"], [0.8, 0.55], 1.0) * np.where(stratum == "S2", 1.6, 1.0)
    event_time = np.ceil(rng.exponential(12 / rate))
    censor_time = np.ceil(rng.uniform(5, 40, n))
    return pd.DataFrame(
        {
            "time": np.minimum(event_time, censor_time),
            "event": (event_time <= censor_time).astype(int),
            "arm": arm,
            "stratum": stratum,
        }
    )


@pytest.fixture(scope="module")
def survival(rscript, tmp_path_factory):
    """(datasets by name, R's numbers by name, R's non-reference levels by case) from one R run:
    R writes its datasets, then computes survdiff and coxph (Breslow and Efron) of every case."""
    folder = tmp_path_factory.mktemp("survival")
    simulated_with_ties().to_csv(folder / "ties.csv", index=False)
    code = R_SURVIVAL + "".join(
        f"write.csv(na.omit({expression}), '{folder / name}.csv', row.names = FALSE)\n"
        for name, expression in R_SURVIVAL_DATA.items()
    )
    code += "".join(
        f"references('{case}', read.csv('{folder / dataset}.csv'), '{group}', '{reference}', "
        f"{repr(strata) if strata else 'NA'})\n"
        for case, (dataset, group, reference, strata) in SURVIVAL_CASES.items()
    )
    numbers = run_r(rscript, folder, code)
    levels = {
        line.split()[0]: line.split()[1:] for line in (folder / "r-out.txt.levels").read_text().splitlines()
    }
    datasets = {name: pd.read_csv(folder / f"{name}.csv") for name in [*R_SURVIVAL_DATA, "ties"]}
    return datasets, numbers, levels


def _case(survival, case):
    datasets, numbers, levels = survival
    dataset, group, reference, strata = SURVIVAL_CASES[case]
    data = datasets[dataset]
    return data, group, reference, strata, numbers, levels[case]


def test_simulated_dataset_has_heavy_ties():
    data = simulated_with_ties()
    assert data["time"].duplicated().sum() > 150 and data["event"].sum() > 100


# --------------------------------------------------------------------------------- log-rank test


@pytest.mark.parametrize("case", list(SURVIVAL_CASES))
def test_log_rank_matches_r_survdiff(survival, case):
    data, group, _, strata, numbers, _ = _case(survival, case)
    result = log_rank(data["time"], data["event"], data[group], None if strata is None else data[strata])
    chisq, df, p_value = numbers[f"{case}.survdiff"]
    assert result.chisq == pytest.approx(chisq, rel=RTOL)
    assert result.df == df
    assert result.p_value == pytest.approx(p_value, rel=RTOL)
    assert result.stratified == (strata is not None)
    assert sum(result.n) == len(data) and sum(result.events) == data["event"].sum()


# --------------------------------------------------------------------------------------- Cox PH


@pytest.mark.parametrize("case", list(SURVIVAL_CASES))
def test_cox_breslow_matches_r_coxph(survival, case):
    data, group, reference, strata, numbers, r_levels = _case(survival, case)
    result = cox_ph(
        data["time"], data["event"], data[group], reference, None if strata is None else data[strata]
    )
    table = result.hazard_ratios
    assert [str(level) for level in table["level"]] == r_levels
    assert result.df == len(r_levels) and result.ties == "breslow"
    for ours, theirs in [
        ("hr", "hr"),
        ("hr_ci_low", "low"),
        ("hr_ci_high", "high"),
        ("p_value", "p"),
        ("se", "se"),
    ]:
        np.testing.assert_allclose(table[ours], numbers[f"{case}.breslow.{theirs}"], rtol=RTOL, err_msg=ours)
    wald, lr, score, n, events = numbers[f"{case}.breslow.tests"]
    assert result.wald_chisq == pytest.approx(wald, rel=RTOL)
    assert result.lr_chisq == pytest.approx(lr, rel=RTOL)
    assert result.score_chisq == pytest.approx(score, rel=RTOL)
    assert (result.n, result.events) == (n, events)


def test_cox_ties_are_breslow_not_efron(survival):
    # With heavy ties R's default (Efron) differs beyond the tolerance: the match above is Breslow's.
    data, group, reference, strata, numbers, _ = _case(survival, "ties-3arm-by-stratum")
    result = cox_ph(data["time"], data["event"], data[group], reference, data[strata])
    assert not np.allclose(result.hazard_ratios["hr"], numbers["ties-3arm-by-stratum.efron.hr"], rtol=1e-4)


def test_cox_levels_order_the_rows(survival):
    data, group, reference, strata, numbers, r_levels = _case(survival, "ties-3arm")
    result = cox_ph(data["time"], data["event"], data[group], reference, levels=["Placebo", "Low", "High"])
    assert list(result.hazard_ratios["level"]) == ["Low", "High"]
    by_level = dict(zip(r_levels, numbers["ties-3arm.breslow.hr"], strict=True))
    np.testing.assert_allclose(result.hazard_ratios["hr"], [by_level["Low"], by_level["High"]], rtol=RTOL)


# ------------------------------------------------------------------------- proportion difference

# Newcombe (1998) Table II: the eight examples (x1, n1, x2, n2) and the 95% limits printed for
# method 6 (Miettinen-Nurminen score) and method 10 (hybrid score, Wilson-based).
NEWCOMBE_EXAMPLES = [
    (56, 70, 48, 80),
    (9, 10, 3, 10),
    (6, 7, 2, 7),
    (5, 56, 0, 29),
    (0, 10, 0, 20),
    (0, 10, 0, 10),
    (10, 10, 0, 20),
    (10, 10, 0, 10),
]
NEWCOMBE_TABLE_II = {
    "miettinen-nurminen": [
        (0.0528, 0.3382),
        (0.1700, 0.8406),
        (0.0342, 0.8534),
        (-0.0326, 0.1933),
        (-0.1658, 0.2844),
        (-0.2879, 0.2879),
        (0.7156, 1.0),
        (0.6636, 1.0),
    ],
    "newcombe": [
        (0.0524, 0.3339),
        (0.1705, 0.8090),
        (0.0582, 0.8062),
        (-0.0381, 0.1926),
        (-0.1611, 0.2775),
        (-0.2775, 0.2775),
        (0.6791, 1.0),
        (0.6075, 1.0),
    ],
}


@pytest.mark.parametrize("method", list(NEWCOMBE_TABLE_II))
def test_proportion_difference_reproduces_newcombe_table_ii(method):
    x1, n1, x2, n2 = np.array(NEWCOMBE_EXAMPLES).T
    result = proportion_differences(x1, n1, x2, n2, method=method)
    published = np.array(NEWCOMBE_TABLE_II[method])
    # printed to 4 decimals: within half a unit of the last digit
    np.testing.assert_allclose(result[["diff_ci_low", "diff_ci_high"]], published, atol=5e-5 + 1e-12)
    assert (result["method"] == method).all()
    np.testing.assert_allclose(result["diff"], x1 / n1 - x2 / n2)


def test_proportion_difference_wald_reproduces_newcombe_method_1():
    # Newcombe (1998) Table II, method 1 (simple asymptotic), example (a): 0.0575 to 0.3425
    result = proportion_difference(56, 70, 48, 80, method="wald")
    assert (result.diff_ci_low, result.diff_ci_high) == pytest.approx((0.0575, 0.3425), abs=5e-5)
    assert result.method == "wald" and result.diff == pytest.approx(0.2)


PROPORTION_CASES = NEWCOMBE_EXAMPLES + [(7, 34, 1, 34), (30, 45, 21, 44), (1, 120, 9, 118), (44, 50, 50, 50)]

R_DIFFERENCES = """
z <- qnorm(0.975)
xlogp <- function(x, p) ifelse(x > 0, x * log(p), 0)
mn_score <- function(x1, n1, x2, n2, d) {
  # restricted MLE of p2 under p1 = p2 + d, maximized numerically (not the closed form)
  loglik <- function(p2) {
    xlogp(x1, p2 + d) + xlogp(n1 - x1, 1 - p2 - d) + xlogp(x2, p2) + xlogp(n2 - x2, 1 - p2)
  }
  p2 <- optimize(loglik, c(max(0, -d), min(1, 1 - d)), maximum = TRUE, tol = 1e-15)$maximum
  p1 <- p2 + d
  v <- (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) * (n1 + n2) / (n1 + n2 - 1)
  (x1 / n1 - x2 / n2 - d) / sqrt(v)
}
cases <- read.csv(DATA)
for (i in seq_len(nrow(cases))) {
  x1 <- cases$x1[i]; n1 <- cases$n1[i]; x2 <- cases$x2[i]; n2 <- cases$n2[i]
  est <- x1 / n1 - x2 / n2
  eps <- 1e-12
  score <- function(d) mn_score(x1, n1, x2, n2, d)
  low <- if (est <= -1) -1 else uniroot(function(d) score(d) - z, c(-1 + eps, est - eps), tol = 1e-13)$root
  high <- if (est >= 1) 1 else uniroot(function(d) score(d) + z, c(est + eps, 1 - eps), tol = 1e-13)$root
  emit(paste0("mn", i), c(low, high))
  w1 <- prop.test(x1, n1, correct = FALSE)$conf.int
  w2 <- prop.test(x2, n2, correct = FALSE)$conf.int
  p1 <- x1 / n1; p2 <- x2 / n2
  emit(paste0("newcombe", i), c(est - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2),
                                est + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2)))
  se <- sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
  emit(paste0("wald", i), c(est - z * se, est + z * se))
}
"""


def test_proportion_difference_matches_r_to_1e6(rscript, tmp_path):
    cases = pd.DataFrame(PROPORTION_CASES, columns=["x1", "n1", "x2", "n2"])
    reference = run_r(rscript, tmp_path, R_DIFFERENCES, cases)
    for method, key in [("miettinen-nurminen", "mn"), ("newcombe", "newcombe"), ("wald", "wald")]:
        result = proportion_differences(cases["x1"], cases["n1"], cases["x2"], cases["n2"], method=method)
        expected = np.array([reference[f"{key}{i + 1}"] for i in range(len(cases))])
        np.testing.assert_allclose(
            result[["diff_ci_low", "diff_ci_high"]], expected, atol=1e-6, err_msg=method
        )


def test_proportion_difference_rejects_empty_arms_and_bad_counts():
    with pytest.raises(InputError, match="no subjects"):
        proportion_difference(0, 0, 3, 10)
    with pytest.raises(ValueError, match="0 <= x <= n"):
        proportion_difference(11, 10, 3, 10)
    with pytest.raises(ValueError, match="method"):
        proportion_difference(1, 10, 3, 10, method="score")


# ------------------------------------------------------------------------------------------ CMH

R_CMH = """
write.csv(as.data.frame(UCBAdmissions), DATA, row.names = FALSE)
by_gender <- aperm(UCBAdmissions, c(2, 1, 3))  # rows Male, Female; columns Admitted, Rejected
for (correct in c(FALSE, TRUE)) {
  m <- mantelhaen.test(by_gender, correct = correct)
  emit(if (correct) "corrected" else "plain", c(m$statistic, m$p.value, m$estimate, m$conf.int))
}
"""


def test_cmh_matches_r_mantelhaen_on_ucb_admissions(rscript, tmp_path):
    reference = run_r(rscript, tmp_path, R_CMH)
    counts = pd.read_csv(tmp_path / "data.csv")
    tables = (
        counts.pivot_table(index=["Dept", "Gender", "Admit"], values="Freq", aggfunc="sum")
        .reindex(
            pd.MultiIndex.from_product(
                [sorted(counts["Dept"].unique()), ["Male", "Female"], ["Admitted", "Rejected"]]
            )
        )
        .to_numpy()
        .reshape(-1, 2, 2)
    )
    for correction, key in [(False, "plain"), (True, "corrected")]:
        result = cmh_test(tables, correction=correction)
        observed = [result.chisq, result.p_value, result.odds_ratio, result.or_ci_low, result.or_ci_high]
        np.testing.assert_allclose(observed, reference[key], rtol=RTOL, err_msg=key)
        assert result.df == 1 and result.strata == 6 and result.correction is correction
    # the same from one record per applicant
    records = counts.loc[counts.index.repeat(counts["Freq"])]
    from_records = cmh_test_records(
        records["Admit"], records["Gender"], records["Dept"], response="Admitted", reference="Female"
    )
    np.testing.assert_allclose(
        [from_records.chisq, from_records.p_value, from_records.odds_ratio], reference["plain"][:3], rtol=RTOL
    )


def test_cmh_default_has_no_continuity_correction_and_skips_single_subject_strata():
    tables = np.array([[[12, 5], [7, 10]], [[3, 9], [2, 11]], [[1, 0], [0, 0]]])
    plain = cmh_test(tables)
    without_single = cmh_test(tables[:2])
    assert plain.correction is False and plain.strata == 2
    assert plain.chisq == pytest.approx(without_single.chisq, rel=1e-12)
    # hand computation over the two informative strata: sum(a - E[a])^2 / sum Var(a)
    a = tables[:2, 0, 0]
    n = tables[:2].sum(axis=(1, 2))
    row1, col1 = tables[:2, 0].sum(axis=1), tables[:2, :, 0].sum(axis=1)
    expected = (a - row1 * col1 / n).sum() ** 2 / (
        row1 * (n - row1) * col1 * (n - col1) / (n**2 * (n - 1))
    ).sum()
    assert plain.chisq == pytest.approx(expected, rel=1e-12)
    assert cmh_test(tables, correction=True).chisq < plain.chisq


def test_cmh_records_need_two_groups_with_the_reference():
    with pytest.raises(InputError, match="reference level 'Placebo'"):
        cmh_test_records(["Y", "N"], ["A", "B"], ["S1", "S1"], response="Y", reference="Placebo")
    with pytest.raises(InputError, match="two groups"):
        cmh_test_records(["Y", "N", "Y"], ["A", "B", "C"], ["S1", "S1", "S1"], response="Y", reference="A")


# --------------------------------------------------------------------------------------- Fisher


def test_fisher_rows_match_r_fisher_test_and_run_once_per_distinct_table(rscript, tmp_path, monkeypatch):
    rng = np.random.default_rng(15)
    rows = pd.DataFrame(
        {"events1": rng.integers(0, 8, 300), "n1": 60, "events2": rng.integers(0, 8, 300), "n2": 58}
    )
    rows.loc[0] = [0, 60, 0, 58]
    rows.loc[1] = [25, 60, 3, 58]  # a small p-value
    reference = run_r(
        rscript,
        tmp_path,
        """
rows <- read.csv(DATA)
emit("p", mapply(function(a, n, b, m) fisher.test(matrix(c(a, b, n - a, m - b), 2))$p.value,
                 rows$events1, rows$n1, rows$events2, rows$n2))
""",
        rows,
    )
    calls = []
    import scipy.stats  # fisher_exact_rows imports it where it runs

    real = scipy.stats.fisher_exact
    monkeypatch.setattr(scipy.stats, "fisher_exact", lambda *a, **k: calls.append(1) or real(*a, **k))
    p = fisher_exact_rows(rows["events1"], rows["n1"], rows["events2"], rows["n2"])
    np.testing.assert_allclose(p, reference["p"], rtol=RTOL)
    assert len(calls) == len(rows.drop_duplicates()) < len(rows)
    with pytest.raises(ValueError, match="0 <= events <= n"):
        fisher_exact_rows([5], [4], [1], [4])


# --------------------------------------------------------------------------------------- ANCOVA

# covariate sets of mpg ~ factor(cyl) + covariates on R's mtcars (am and gear as categories)
ANCOVA_CASES = {
    "wt": (["wt"], []),
    "wt-hp": (["wt", "hp"], []),
    "wt-am": (["wt"], ["am"]),
    "wt-am-gear": (["wt"], ["am", "gear"]),
}

R_LSMEANS = """
d <- transform(mtcars, am = ifelse(am == 1, 'manual', 'automatic'), gear = paste0('g', gear))
d$mpg[c(4, 18)] <- NA; d$wt[6] <- NA                   # lm leaves these rows out (na.omit)
write.csv(d, DATA, row.names = FALSE)
d$cyl <- relevel(factor(d$cyl), "4")
d$am <- factor(d$am); d$gear <- factor(d$gear)
lsmeans <- function(case, numeric, categorical) {
  fit <- lm(reformulate(c("cyl", numeric, categorical), "mpg"), data = d)
  mf <- model.frame(fit)
  grid <- expand.grid(c(list(cyl = levels(d$cyl)), lapply(mf[categorical], levels)))
  for (v in numeric) grid[[v]] <- mean(mf[[v]])       # numeric covariates at their mean
  X <- model.matrix(delete.response(terms(fit)), grid, xlev = fit$xlevels)
  L <- t(sapply(levels(d$cyl), function(l) colMeans(X[grid$cyl == l, , drop = FALSE])))  # balanced
  D <- L[-1, , drop = FALSE] - matrix(L[1, ], nrow(L) - 1, ncol(L), byrow = TRUE)
  q <- qt(0.975, fit$df.residual)
  for (what in c("mean", "diff")) {
    M <- if (what == "mean") L else D
    est <- drop(M %*% coef(fit)); se <- sqrt(diag(M %*% vcov(fit) %*% t(M)))
    emit(paste0(case, ".", what), est); emit(paste0(case, ".", what, "_se"), se)
    emit(paste0(case, ".", what, "_low"), est - q * se); emit(paste0(case, ".", what, "_high"), est + q * se)
    emit(paste0(case, ".", what, "_p"), 2 * pt(-abs(est / se), fit$df.residual))
  }
  emit(paste0(case, ".df"), fit$df.residual)
}
"""


@pytest.fixture(scope="module")
def lsmeans_reference(rscript, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ancova")

    def r_vector(names: list[str]) -> str:
        return f"c({', '.join(repr(n) for n in names)})" if names else "character(0)"

    code = R_LSMEANS + "".join(
        f"lsmeans('{case}', {r_vector(numeric)}, {r_vector(categorical)})\n"
        for case, (numeric, categorical) in ANCOVA_CASES.items()
    )
    numbers = run_r(rscript, folder, code)
    return pd.read_csv(folder / "data.csv"), numbers


@pytest.mark.parametrize("case", list(ANCOVA_CASES))
def test_ancova_lsmeans_match_r_lm(lsmeans_reference, case):
    data, numbers = lsmeans_reference
    numeric, categorical = ANCOVA_CASES[case]
    assert data["mpg"].isna().sum() == 2 and data["wt"].isna().sum() == 1
    result = ancova(data["mpg"], data["cyl"], 4, data[numeric + categorical])
    assert list(result.lsmeans["level"]) == [4, 6, 8]
    assert result.n == len(data) - 3 and result.lsmeans["n"].sum() == result.n
    assert result.df_resid == numbers[f"{case}.df"][0]
    for ours, theirs in [
        ("lsmean", "mean"),
        ("lsmean_se", "mean_se"),
        ("lsmean_ci_low", "mean_low"),
        ("lsmean_ci_high", "mean_high"),
    ]:
        np.testing.assert_allclose(result.lsmeans[ours], numbers[f"{case}.{theirs}"], rtol=RTOL, err_msg=ours)
    for ours, theirs in [
        ("lsmean_diff", "diff"),
        ("lsmean_diff_se", "diff_se"),
        ("lsmean_diff_ci_low", "diff_low"),
        ("lsmean_diff_ci_high", "diff_high"),
        ("p_value", "diff_p"),
    ]:
        np.testing.assert_allclose(
            result.differences[ours], numbers[f"{case}.{theirs}"], rtol=RTOL, err_msg=ours
        )
    assert list(result.differences["reference"]) == [4, 4]


def test_ancova_balanced_lsmeans_differ_from_raw_means_by_hand():
    # Two arms, one binary class covariate with unequal frequencies across arms. With
    # y = b0 + b1*arm + b2*sex the LS mean of an arm is b0 + b1*arm + b2/2 (sexes weighted equally),
    # not the arm's raw mean (the men, 4 units higher, are 2/3 of P and 1/4 of T).
    arm = np.array(["P", "P", "P", "T", "T", "T", "T"])
    sex = np.array(["F", "M", "M", "F", "F", "F", "M"])
    y = 10 + 3 * (arm == "T") + 4 * (sex == "M") + np.array([0.1, -0.05, -0.05, 0.1, -0.1, 0.0, 0.0])
    result = ancova(y, arm, "P", {"sex": sex})
    fit = np.linalg.lstsq(np.column_stack([np.ones(7), arm == "T", sex == "M"]).astype(float), y, rcond=None)[
        0
    ]
    assert list(result.lsmeans["lsmean"]) == pytest.approx(
        [fit[0] + fit[2] / 2, fit[0] + fit[1] + fit[2] / 2]
    )
    assert result.differences["lsmean_diff"].iloc[0] == pytest.approx(fit[1])
    assert result.lsmeans["lsmean"].iloc[0] != pytest.approx(y[arm == "P"].mean(), abs=0.1)


# ----------------------------------------------------------------------------------- bad inputs


def test_inputs_of_different_lengths_are_rejected():
    with pytest.raises(ValueError, match="differ in length: time 3, event 2, group 3"):
        log_rank([1, 2, 3], [1, 0], ["A", "B", "A"])


def test_no_events_reference_level_missing_and_absent_group_named_at_once():
    with pytest.raises(InputError, match="no events"):
        log_rank([1, 2, 3, 4], [0, 0, 0, 0], ["A", "B", "A", "B"])
    with pytest.raises(InputError) as caught:
        cox_ph([1, 2, -3, 4], [1, 1, 0, 1], ["A", "B", "A", None], "Placebo")
    messages = [problem.message for problem in caught.value.problems]
    assert any("negative" in m for m in messages)
    assert any("missing value" in m for m in messages)
    assert any("reference level 'Placebo'" in m for m in messages)
    with pytest.raises(InputError, match="have no records"):
        cox_ph([1, 2, 3, 4], [1, 1, 0, 1], ["A", "B", "A", "B"], "A", levels=["A", "B", "C"])
    with pytest.raises(InputError, match="at least two groups"):
        log_rank([1, 2, 3], [1, 1, 0], ["A", "A", "A"])


def test_cox_level_without_events_is_not_estimable():
    with pytest.raises(InputError, match="group 'B' has no events"):
        cox_ph([1, 2, 3, 4, 5], [1, 0, 1, 0, 0], ["A", "B", "A", "B", "A"], "A")


def test_ancova_reference_level_must_be_observed_and_responses_numbers():
    with pytest.raises(InputError, match="reference level 'Z'"):
        ancova([1.0, 2.0, 3.0, 4.0], ["A", "B", "A", "B"], "Z")
    with pytest.raises(InputError, match="1 response value"):
        ancova([1.0, "high", 3.0, 4.0, 2.0], ["A", "B", "A", "B", "B"], "A")
