"""submit.stats: rounding and display, Clopper-Pearson, Kaplan-Meier (PROC LIFETEST rules), summaries.

Expected values come from independent sources: decimal arithmetic, scipy's binomtest and censored-data ECDF,
a brute-force scan of the SAS percentile criteria written here with plain loops, the SAS
documentation's worked example, hand calculation, and numpy/scipy descriptive functions.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from submit.errors import DataCheckError
from submit.stats import (
    clopper_pearson,
    fmt_ci,
    fmt_est_ci,
    fmt_mean_sd,
    fmt_n_pct,
    fmt_num,
    fmt_pct,
    fmt_range,
    kaplan_meier,
    sas_round,
    summarize,
    to_long,
)

# ---------------------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        (2.675, 2, 2.68),  # binary 2.67499999...
        (1.005, 2, 1.01),  # binary 1.00499999...
        (0.125, 2, 0.13),  # exact binary half
        (0.285, 2, 0.29),
        (-2.675, 2, -2.68),
        (-2.5, 0, -3.0),
        (2.5, 0, 3.0),
        (0.5, 0, 1.0),
        (1.45, 1, 1.5),
        (2.4999, 0, 2.0),
        (-0.0049, 2, 0.0),
        (69.44444, 1, 69.4),
        (1234.5, 0, 1235.0),
    ],
)
def test_sas_round_half_away_from_zero(x, digits, expected):
    assert sas_round(x, digits) == expected


def test_sas_round_agrees_with_decimal_half_up_on_decimal_inputs():
    rng = np.random.default_rng(20240601)
    for places in (1, 2, 3):
        ints = rng.integers(-10**7, 10**7, size=4000)
        ints[:1000] = ints[:1000] // 10 * 10 + 5  # force many exact halves
        texts = [f"{Decimal(int(k)).scaleb(-(places + 1))}" for k in ints]
        expected = np.array(
            [float(Decimal(t).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)) for t in texts]
        )
        got = sas_round(np.array([float(t) for t in texts]), places)
        assert np.array_equal(got, expected)


def test_sas_round_shapes_and_missing():
    series = pd.Series([2.675, np.nan, -0.125], index=[10, 20, 30], name="aval")
    rounded = sas_round(series, 2)
    assert rounded.index.tolist() == [10, 20, 30] and rounded.name == "aval"
    assert rounded.iloc[0] == 2.68 and np.isnan(rounded.iloc[1]) and rounded.iloc[2] == -0.13
    assert isinstance(sas_round(2.5), float)
    assert not np.signbit(sas_round(-0.001, 2))  # no negative zero
    assert sas_round(np.array([[0.5, -1.5]])).tolist() == [[1.0, -2.0]]
    with pytest.raises(ValueError, match="digits"):
        sas_round(1.0, -1)


def test_display_formats():
    assert fmt_num(2.675, 2) == "2.68"
    assert fmt_num(3, 1) == "3.0"
    assert fmt_num(-0.04, 1) == "0.0"
    assert fmt_num(float("nan"), 1) == "NE"
    assert fmt_num(None, 1, missing="") == ""
    assert fmt_pct(25 / 36) == "69.4"
    assert fmt_pct(0.00125, 2) == "0.13"
    assert fmt_n_pct(25, 25 / 36) == "25 (69.4)"
    assert fmt_n_pct(36, 1.0) == "36 (100.0)"
    assert fmt_n_pct(0, 0.0) == "0"
    assert fmt_n_pct(0, 0.0, zero_pct=True) == "0 (0.0)"
    assert fmt_n_pct(3, float("nan")) == "3"
    assert fmt_ci(0.51893, 0.83653, 1, percent=True) == "51.9, 83.7"
    assert fmt_ci(4.5, float("nan"), 1) == "4.5, NE"
    assert fmt_est_ci(float("nan"), 3.25, None, 1) == "NE (3.3, NE)"
    assert fmt_est_ci(25 / 36, 0.51893, 0.83653, 1, percent=True) == "69.4 (51.9, 83.7)"
    assert fmt_mean_sd(12.345, 4.5675, 1) == "12.3 (4.57)"
    assert fmt_mean_sd(5.0, float("nan"), 1) == "5.0 (NE)"
    assert fmt_range(1, 77, 0) == "1, 77"
    with pytest.raises(TypeError):
        fmt_num("abc", 1)


# ---------------------------------------------------------------------------------------- binomial


def test_clopper_pearson_matches_scipy_binomtest():
    pairs = [(x, n) for n in range(1, 41) for x in range(n + 1)] + [(x, 250) for x in (0, 1, 7, 125, 249, 250)]
    xs, ns = np.array(pairs).T
    for alpha in (0.05, 0.10):
        low, high = clopper_pearson(xs, ns, alpha)
        for x, n, lo, hi in zip(xs, ns, low, high):
            ci = sps.binomtest(int(x), int(n)).proportion_ci(confidence_level=1 - alpha, method="exact")
            assert lo == pytest.approx(ci.low, abs=1e-10) and hi == pytest.approx(ci.high, abs=1e-10)


def test_clopper_pearson_published_mt103_206_values():
    # Topp et al. (MT103-206): CR/CRh* 25/36, 95% CI 52-84; CR 15/36, 26-59; CRh* 10/36, 14-45.
    assert fmt_ci(*clopper_pearson(25, 36), 1, percent=True) == "51.9, 83.7"
    assert fmt_ci(*clopper_pearson(15, 36), 0, percent=True) == "26, 59"
    assert fmt_ci(*clopper_pearson(10, 36), 0, percent=True) == "14, 45"


def test_clopper_pearson_edges():
    assert clopper_pearson(0, 10)[0] == 0.0
    assert clopper_pearson(10, 10)[1] == 1.0
    assert clopper_pearson(0, 10)[1] == pytest.approx(1 - 0.025 ** (1 / 10))  # closed form at x = 0
    low, high = clopper_pearson(0, 0)
    assert math.isnan(low) and math.isnan(high)
    with pytest.raises(ValueError, match="0 <= x <= n"):
        clopper_pearson([3, 11], [10, 10])
    with pytest.raises(ValueError, match="0 <= x <= n"):
        clopper_pearson(1.5, 10)


# ------------------------------------------------------------------------------------ Kaplan-Meier


def brute_force_km(time, event, t):
    """S(t) and the Greenwood sum at time t, straight from the definitions (one time at a time)."""
    s, greenwood = 1.0, 0.0
    for u in sorted({ti for ti, ei in zip(time, event) if ei == 1 and ti <= t}):
        at_risk = sum(1 for ti in time if ti >= u)
        deaths = sum(1 for ti, ei in zip(time, event) if ti == u and ei == 1)
        s *= 1 - deaths / at_risk
        greenwood += deaths / (at_risk * (at_risk - deaths)) if at_risk > deaths else math.inf
    return s, greenwood


def brute_force_percentile(time, event, p, z=1.959963984540054):
    """SAS's percentile and Brookmeyer-Crowley limits by scanning a grid of candidate times."""
    observed = sorted(set(time))
    grid = sorted(set(observed) | {(a + b) / 2 for a, b in zip(observed, observed[1:])} | {0.0})
    curve = [(t, *brute_force_km(time, event, t)) for t in grid]
    target = 1 - p
    estimate = math.nan
    for i, (t, s, _) in enumerate(curve):
        if s < target - 1e-12:
            estimate = t
            # S exactly 1 - p on the step before: midpoint of that step's start and this time
            flat = [u for u, su, _ in curve[:i] if abs(su - target) <= 1e-12]
            if flat:
                estimate = (flat[0] + t) / 2
            break
    inside = []
    for t, s, greenwood in curve:
        if 0 < s < 1:
            statistic = abs(math.log(-math.log(s)) - math.log(-math.log(target))) * abs(math.log(s))
            inside.append(statistic / math.sqrt(greenwood) <= z)
        else:
            inside.append(False)
    if not any(inside):
        return estimate, math.nan, math.nan
    first = grid[inside.index(True)]
    last = max(i for i, flag in enumerate(inside) if flag)
    later_out = [grid[i] for i in range(last + 1, len(grid)) if not inside[i]]
    return estimate, first, (later_out[0] if later_out else math.nan)


# Klein and Moeschberger's bone marrow transplant data, ALL group (SAS's example data set BMT):
# disease-free survival time in days and status (1 = relapse or death).
BMT_ALL_TIME = [
    2081, 1602, 1496, 1462, 1433, 1377, 1330, 996, 226, 1199, 1111, 530, 1182, 1167, 418, 383, 276, 104,
    609, 172, 487, 662, 194, 230, 526, 122, 129, 74, 122, 86, 466, 192, 109, 55, 1, 107, 110, 332,
]
BMT_ALL_STATUS = [0] * 14 + [1] * 24

TIES_TIME = [1, 2, 2, 2, 3, 4]
TIES_EVENT = [1, 1, 1, 0, 1, 0]


def random_tte(seed, n, max_time=40, event_rate=0.7):
    rng = np.random.default_rng(seed)
    return rng.integers(1, max_time, n).astype(float), (rng.random(n) < event_rate).astype(int)


def test_km_matches_sas_documentation_example():
    # SAS/STAT User's Guide, PROC LIFETEST details ("Constructing 95% Confidence Limits for the 25th
    # Percentile", BMT data, ALL group): LOGLOG limits [86, 230).
    fit = kaplan_meier(BMT_ALL_TIME, BMT_ALL_STATUS)
    estimate, low, high = fit.quantile(0.25)
    assert (low, high) == (86.0, 230.0)
    assert estimate == 122.0  # first time with S < 0.75: S(110) = 0.789, S(122) = 0.737
    assert (fit.n, fit.events, fit.censored) == (38, 24, 14)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_km_survival_and_loglog_ci_match_scipy(seed):
    # scipy's estimator for censored data (lifelines would pin pandas < 3, which the package needs).
    time, event = random_tte(seed, 400)
    fit = kaplan_meier(time, event)
    done = np.asarray(event, dtype=bool)
    reference = sps.ecdf(sps.CensoredData(uncensored=time[done], right=time[~done])).sf
    table = fit.table.set_index("time")
    assert np.allclose(reference.evaluate(table.index.to_numpy()), table["survival"], atol=1e-12)
    ci = reference.confidence_interval(confidence_level=0.95, method="log-log")
    low, high = ci.low.evaluate(table.index.to_numpy()), ci.high.evaluate(table.index.to_numpy())
    defined = table["survival"].between(0, 1, inclusive="neither").to_numpy()
    assert np.allclose(low[defined], table["ci_low"][defined], atol=1e-10)
    assert np.allclose(high[defined], table["ci_high"][defined], atol=1e-10)
    median = reference.quantiles[reference.probabilities <= 0.5].min()
    assert fit.median()[0] == median  # no flat at exactly 0.5 here
    assert not np.isclose(table["survival"], 0.5, atol=1e-9).any()


def test_km_table_and_greenwood_match_brute_force():
    time, event = random_tte(11, 60, max_time=15)
    fit = kaplan_meier(time, event)
    for row in fit.table.itertuples():
        s, greenwood = brute_force_km(list(time), list(event), row.time)
        assert row.survival == pytest.approx(s, abs=1e-12)
        assert row.se == pytest.approx(s * math.sqrt(greenwood), abs=1e-12)
        assert row.n_risk == int((time >= row.time).sum())


@pytest.mark.parametrize("seed", range(8))
def test_km_percentiles_match_brute_force_scan(seed):
    time, event = random_tte(100 + seed, 25, max_time=30, event_rate=0.6)
    fit = kaplan_meier(time, event)
    for p in (0.25, 0.5, 0.75):
        got = fit.quantile(p)
        want = brute_force_percentile(list(time), list(event), p)
        assert np.allclose(got, want, equal_nan=True), (p, got, want)


def test_km_ties_and_flat_at_one_half():
    fit = kaplan_meier(TIES_TIME, TIES_EVENT)
    table = fit.table
    assert table["time"].tolist() == [1, 2, 3, 4]
    assert table["n_risk"].tolist() == [6, 5, 2, 1]  # the subject censored at 2 is at risk at 2
    assert table["n_event"].tolist() == [1, 2, 1, 0]
    assert table["n_censor"].tolist() == [0, 1, 0, 1]
    assert np.allclose(table["survival"], [5 / 6, 1 / 2, 1 / 4, 1 / 4])
    # S is exactly 0.5 on [2, 3): SAS's median is the midpoint 2.5 (lifelines would not say so).
    assert fit.median()[0] == 2.5
    assert fit.median() == pytest.approx(brute_force_percentile(TIES_TIME, TIES_EVENT, 0.5), nan_ok=True)
    # S stays at exactly 0.25 to the end: the 75th percentile is not estimable.
    assert math.isnan(fit.quantile(0.75)[0])
    quartiles = fit.quartiles()
    assert quartiles["percent"].tolist() == [75, 50, 25] and quartiles.loc[1, "estimate"] == 2.5


def test_km_survival_at_and_at_risk():
    fit = kaplan_meier(TIES_TIME, TIES_EVENT)
    at = fit.survival_at([0, 1, 1.5, 2, 3.9, 4, 5])
    assert np.allclose(at["survival"], [1, 5 / 6, 5 / 6, 1 / 2, 1 / 4, 1 / 4, np.nan], equal_nan=True)
    assert at["n_risk"].tolist() == [6, 6, 5, 5, 1, 1, 0]
    assert (at.loc[0, "ci_low"], at.loc[0, "ci_high"], at.loc[0, "se"]) == (1.0, 1.0, 0.0)
    assert fit.survival_at([5], extend=True)["survival"].iloc[0] == 0.25
    assert fit.at_risk([0, 2, 2.5, 4, 4.5]).tolist() == [6, 5, 2, 1, 0]
    dead = kaplan_meier([1, 2], [1, 1])  # S reaches 0: known beyond the last time too
    assert dead.survival_at([10])["survival"].iloc[0] == 0.0


def test_km_all_censored_one_subject_and_empty():
    censored = kaplan_meier([3, 5, 8], [0, 0, 0])
    assert censored.table["survival"].tolist() == [1.0, 1.0, 1.0]
    assert censored.table["ci_low"].tolist() == [1.0, 1.0, 1.0]
    assert all(math.isnan(v) for v in censored.median())
    assert (censored.events, censored.censored) == (0, 3)

    one = kaplan_meier([5], [1])
    assert one.table["survival"].tolist() == [0.0] and one.table["se"].tolist() == [0.0]
    assert math.isnan(one.table["ci_low"].iloc[0])  # log-log undefined at S = 0
    estimate, low, high = one.median()
    assert estimate == 5.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in kaplan_meier([5], [0]).median())

    empty = kaplan_meier([], [])
    assert empty.n == 0 and all(math.isnan(v) for v in empty.median())
    assert empty.survival_at([1])["survival"].isna().all()


def test_km_upper_limit_not_reached_and_alpha():
    fit = kaplan_meier(BMT_ALL_TIME, BMT_ALL_STATUS)
    estimate, low, high = fit.median()
    assert estimate == brute_force_percentile(BMT_ALL_TIME, BMT_ALL_STATUS, 0.5)[0]
    assert math.isnan(high)  # the interval runs past the last event time
    narrow = fit.quantile(0.25)
    wide = kaplan_meier(BMT_ALL_TIME, BMT_ALL_STATUS, alpha=0.01).quantile(0.25)
    assert wide[0] == narrow[0] and wide[1] <= narrow[1]
    z99 = sps.norm.ppf(0.995)
    assert np.allclose(wide, brute_force_percentile(BMT_ALL_TIME, BMT_ALL_STATUS, 0.25, z=z99), equal_nan=True)


def test_km_reports_every_bad_value():
    with pytest.raises(DataCheckError) as caught:
        kaplan_meier([1, -1, None, 2], [1, 2, 0, 1], source="ADTTE OS")
    rows = [(p.row, p.column) for p in caught.value.problems]
    assert rows == [(2, "event"), (2, "time"), (3, "time")]
    assert all(p.file == "ADTTE OS" for p in caught.value.problems)


# ------------------------------------------------------------------------------------- descriptive


def test_summarize_matches_numpy_and_scipy():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"arm": rng.choice(["A", "B", "C"], 300), "aval": rng.lognormal(1.0, 0.8, 300)})
    data.loc[rng.choice(300, 20, replace=False), "aval"] = np.nan
    data.loc[rng.choice(300, 10, replace=False), "aval"] = 0.0  # excluded from geometric statistics
    wide = summarize(data, "aval", ["arm"])
    assert wide["arm"].tolist() == ["A", "B", "C"]
    for row in wide.itertuples():
        x = data.loc[data["arm"] == row.arm, "aval"].dropna().to_numpy()
        positive = x[x > 0]
        assert row.n == len(x) and row.geo_n == len(positive)
        assert row.mean == pytest.approx(np.mean(x)) and row.sd == pytest.approx(np.std(x, ddof=1))
        assert row.cv == pytest.approx(100 * np.std(x, ddof=1) / np.mean(x))
        assert (row.min, row.max) == (x.min(), x.max())
        q1, median, q3 = np.percentile(x, [25, 50, 75], method="averaged_inverted_cdf")
        assert (row.q1, row.median, row.q3) == pytest.approx((q1, median, q3))
        assert row.geo_mean == pytest.approx(sps.gmean(positive))
        assert row.geo_cv == pytest.approx(100 * np.sqrt(np.exp(np.var(np.log(positive), ddof=1)) - 1))


def test_summarize_uses_sas_percentile_definition_5():
    data = pd.DataFrame({"g": [1] * 6 + [2] * 4 + [3], "v": [6, 2, 4, 1, 5, 3, 1, 2, 3, 4, 7.0]})
    wide = summarize(data, "v", ["g"]).set_index("g")
    # n = 6: n p = 1.5 -> x_2 = 2 (numpy's default "linear" gives 2.25); n p = 3 -> (x_3 + x_4) / 2
    assert wide.loc[1, ["q1", "median", "q3"]].tolist() == [2.0, 3.5, 5.0]
    assert np.percentile([1, 2, 3, 4, 5, 6], 25) == 2.25
    # n = 4: n p = 1 -> (x_1 + x_2) / 2
    assert wide.loc[2, ["q1", "median", "q3"]].tolist() == [1.5, 2.5, 3.5]
    # n = 1: every percentile is the value; no SD
    assert wide.loc[3, ["q1", "median", "q3"]].tolist() == [7.0, 7.0, 7.0]
    assert math.isnan(wide.loc[3, "sd"]) and math.isnan(wide.loc[3, "geo_cv"])


def test_summarize_empty_levels_nonpositive_and_long_format():
    data = pd.DataFrame(
        {"arm": pd.Categorical(["A", "A", "B"], categories=["A", "Z", "B"]), "aval": [-1.0, 0.0, 2.0]}
    )
    wide = summarize(data, "aval", ["arm"])
    assert wide["arm"].tolist() == ["A", "Z", "B"]
    assert wide["n"].tolist() == [2, 0, 1]
    assert wide.loc[0, "geo_n"] == 0 and math.isnan(wide.loc[0, "geo_mean"])
    assert wide.loc[1, ["mean", "median", "min"]].isna().all()
    assert wide.loc[2, "median"] == 2.0 and wide.loc[2, "geo_mean"] == pytest.approx(2.0)
    long = to_long(wide, ["arm"])
    assert long.columns.tolist() == ["arm", "stat_name", "stat"]
    assert long["stat_name"].iloc[:4].tolist() == ["n", "mean", "sd", "cv"]
    assert long.loc[long["arm"] == "B"].set_index("stat_name").loc["max", "stat"] == 2.0
    overall = summarize(data, "aval")
    assert len(overall) == 1 and overall.loc[0, "n"] == 3 and overall.loc[0, "median"] == 0.0
    nothing = summarize(data.iloc[:0], "aval")
    assert len(nothing) == 1 and nothing.loc[0, "n"] == 0 and math.isnan(nothing.loc[0, "mean"])
