"""TLF analysis layer: ADaM XPTs -> ARDs, listing frames and KM curves -> DOCX (`submit tlf`).

Every expected value is computed here from the ADaM XPTs read with plain pyreadstat and pandas:
counts by groupby, exact CIs with scipy's binomtest, Kaplan-Meier with scipy.stats.ecdf (the
Brookmeyer-Crowley median CI as the times whose pointwise log-log CI holds 0.5), and the cell
texts of the documents with decimal rounding half up, read back with python-docx."""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner
from docx import Document
from scipy.stats import CensoredData, binomtest, ecdf

from conftest import ADAM_DIR
from submit.cli import main
from submit.errors import InputError
from submit.tlf import TOTAL, load_shells
from submit.tlf.analysis import AdamData, XptFolder, analyze, read_adam
from submit.tlf.analysis.data import _normalized
from submit.tlf.shell import LEVEL_PATH_SEPARATOR, AnalysisRef, TableShell

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs" / "mt103-206"
MONTH = 30.4375
COHORT, SCHEDULE = ("TRT01A", "TRT01AN"), ("SCHED", "SCHEDN")


# fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def adam_dir(default_adam) -> Path:
    return default_adam[1] / ADAM_DIR


@pytest.fixture(scope="module")
def tlf_dir(adam_dir, tmp_path_factory) -> Path:
    """The package written by the command line, once."""
    out = tmp_path_factory.mktemp("tlf") / "tlf"
    result = CliRunner().invoke(main, ["-q", "--specs", str(SPECS), "tlf", "--adam", str(adam_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def xpt(adam_dir):
    """A dataset as plain pyreadstat reads it (dates as datetime64)."""
    cache: dict[str, pd.DataFrame] = {}

    def read(name: str) -> pd.DataFrame:
        if name not in cache:
            frame = pyreadstat.read_xport(str(adam_dir / f"{name}.xpt"))[0]
            for col in frame.columns:
                if frame[col].dtype == object and frame[col].map(type).astype(str).str.contains("date").any():
                    frame[col] = pd.to_datetime(frame[col])
            cache[name] = frame
        return cache[name]

    return read


@pytest.fixture(scope="module")
def shells():
    return {s.id: s for s in load_shells(SPECS / "tlf")}


def ard(tlf_dir: Path, output: str) -> pd.DataFrame:
    frame = pd.read_csv(tlf_dir / "ard" / f"{output}.csv", dtype=str, keep_default_na=False)
    return frame.assign(stat=pd.to_numeric(frame["stat"]))


def stat(frame: pd.DataFrame, group_level: str, variable: str, level: str, name: str) -> float:
    hit = frame[(frame["group_level"] == group_level) & (frame["variable"] == variable)
                & (frame["variable_level"] == level) & (frame["stat_name"] == name)]
    assert len(hit) == 1, (group_level, variable, level, name, len(hit))
    return float(hit["stat"].iloc[0])


def columns_of(adsl: pd.DataFrame, groups) -> list[tuple[str, pd.DataFrame]]:
    """(group_level, subjects) per table column, the overall column last."""
    out = []
    for variable, order in groups:
        for level in adsl.sort_values(order)[variable].unique():
            out.append((level, adsl[adsl[variable] == level]))
    return out + [(TOTAL, adsl)]


def half_up(value: float, decimals: int) -> str:
    """Half away from zero on the decimal number the value stands for: 12 significant digits drop
    the binary noise of arithmetic (the mean of 1.69 and 1.70 is 1.695, stored as 1.69499...)."""
    q = Decimal(f"{float(value):.12g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{q:.{decimals}f}"


def pct1(p: float) -> str:
    return half_up(100 * p, 1)


# efficacy: response rates -------------------------------------------------------------------------
def test_primary_endpoint_reproduces_the_published_numbers(tlf_dir):
    frame = ard(tlf_dir, "14.2.1.1")
    n, total = stat(frame, TOTAL, "CRCRH", "Y", "n"), stat(frame, TOTAL, "BIGN", "", "N")
    assert (n, total) == (25, 36)
    assert pct1(stat(frame, TOTAL, "CRCRH", "Y", "p")) == "69.4"
    assert (pct1(stat(frame, TOTAL, "CRCRH", "Y", "ci_low")), pct1(stat(frame, TOTAL, "CRCRH", "Y", "ci_high"))) \
        == ("51.9", "83.7")
    assert stat(frame, TOTAL, "BOR", "CR", "n") == 15 and pct1(stat(frame, TOTAL, "BOR", "CR", "p")) == "41.7"
    assert stat(frame, TOTAL, "BOR", "CRh*", "n") == 10 and pct1(stat(frame, TOTAL, "BOR", "CRh*", "p")) == "27.8"
    mrd, hsct = ard(tlf_dir, "14.2.2"), ard(tlf_dir, "14.2.3")
    assert (stat(mrd, TOTAL, "MRDRESP_CRCRH", "Y", "n"), stat(mrd, TOTAL, "MRDRESP_CRCRH", "Y", "N")) == (22, 25)
    assert (stat(hsct, TOTAL, "HSCT_CRCRH", "Y", "n"), stat(hsct, TOTAL, "HSCT_CRCRH", "Y", "N")) == (13, 25)


@pytest.mark.parametrize("output, paramcd, within", [
    ("14.2.1.1", "CRCRH", None), ("14.2.1.2", "CR", None), ("14.2.1.3", "CRH", None), ("14.2.1.4", "PR", None),
    ("14.2.2", "MRDRESP", None), ("14.2.2", "MRDRESP", "CRCRH"), ("14.2.3", "HSCT", None), ("14.2.3", "HSCT", "CRCRH"),
])
def test_response_rates_match_counts_and_scipy_exact_ci(tlf_dir, xpt, output, paramcd, within):
    adsl = xpt("adsl")
    adsl = adsl[adsl["SAFFL"] == "Y"]
    adrs = xpt("adrs")
    value = adrs[adrs["PARAMCD"] == paramcd].set_index("USUBJID")["AVALC"]
    responders = adrs[(adrs["PARAMCD"] == "CRCRH") & (adrs["AVALC"] == "Y")]["USUBJID"]
    frame = ard(tlf_dir, output)
    variable = f"{paramcd}_{within}" if within else paramcd
    columns = columns_of(adsl, (COHORT, SCHEDULE))
    assert frame.loc[frame["variable"] == variable, "group_level"].unique().tolist() == [c for c, _ in columns]
    for level, subjects in columns:
        ids = subjects["USUBJID"]
        if within:
            ids = ids[ids.isin(responders)]
        n, total = int((value.reindex(ids) == "Y").sum()), len(ids)
        assert stat(frame, level, "BIGN", "", "N") == len(subjects)
        assert (stat(frame, level, variable, "Y", "n"), stat(frame, level, variable, "Y", "N")) == (n, total)
        assert stat(frame, level, variable, "Y", "p") == pytest.approx(n / total)
        ci = binomtest(n, total).proportion_ci(method="exact")
        assert stat(frame, level, variable, "Y", "ci_low") == pytest.approx(ci.low, abs=1e-9)
        assert stat(frame, level, variable, "Y", "ci_high") == pytest.approx(ci.high, abs=1e-9)


def test_best_response_counts_every_category_in_every_column(tlf_dir, xpt):
    adsl = xpt("adsl")
    adsl = adsl[adsl["SAFFL"] == "Y"]
    bor = xpt("adrs").query("PARAMCD == 'BOR'").set_index("USUBJID")["AVALC"]
    frame = ard(tlf_dir, "14.2.1.1")
    for level, subjects in columns_of(adsl, (COHORT, SCHEDULE)):
        counts = bor.reindex(subjects["USUBJID"]).value_counts()
        for category in ("CR", "CRh*", "PR", "NR", "NE"):
            n = int(counts.get(category, 0))
            assert stat(frame, level, "BOR", category, "n") == n
            assert stat(frame, level, "BOR", category, "p") == pytest.approx(n / len(subjects))


# efficacy: time to event ----------------------------------------------------------------------------
def km_reference(times: np.ndarray, events: np.ndarray):
    sf = ecdf(CensoredData(uncensored=times[events == 1], right=times[events == 0])).sf
    with warnings.catch_warnings():  # undefined where S = 1 or 0; those points are not compared
        warnings.simplefilter("ignore", RuntimeWarning)
        return sf, sf.confidence_interval(method="log-log")


def median_reference(sf, ci) -> tuple[float, float, float]:
    """Median as PROC LIFETEST (first event time with S < 0.5; the midpoint where S = 0.5 exactly)
    and its Brookmeyer-Crowley interval: the event times whose pointwise log-log CI holds 0.5."""
    t, s = sf.quantiles, sf.probabilities
    low, high = ci.low.evaluate(t), ci.high.evaluate(t)
    below = np.flatnonzero(s < 0.5 - 1e-12)
    median = np.nan
    if len(below):
        k = below[0]
        median = (t[k - 1] + t[k]) / 2 if k > 0 and abs(s[k - 1] - 0.5) <= 1e-12 else t[k]
    inside = np.flatnonzero((s < 1) & (s > 0) & (low <= 0.5) & (high >= 0.5))
    if not len(inside):
        return median, np.nan, np.nan
    upper = t[inside[-1] + 1] if inside[-1] + 1 < len(t) else np.nan
    return median, t[inside[0]], upper


@pytest.mark.parametrize("output, paramcd, n_expected", [("14.2.4.1", "TTHR", 25), ("14.2.5.1", "RFS", 25),
                                                          ("14.2.6.1", "OS", 36)])
def test_time_to_event_tables_match_scipy_kaplan_meier(tlf_dir, xpt, output, paramcd, n_expected):
    adtte = xpt("adtte").query(f"PARAMCD == '{paramcd}'")
    times, events = adtte["AVAL"].to_numpy(float), 1 - adtte["CNSR"].to_numpy(int)
    frame = ard(tlf_dir, output)
    assert stat(frame, TOTAL, "BIGN", "", "N") == len(adtte) == n_expected
    assert stat(frame, TOTAL, paramcd, "", "events") == events.sum()
    assert stat(frame, TOTAL, paramcd, "", "censored") == (1 - events).sum()
    sf, ci = km_reference(times, events)
    median, low, high = median_reference(sf, ci)
    for name, expected in (("median", median), ("median_ci_low", low), ("median_ci_high", high)):
        assert stat(frame, TOTAL, paramcd, "", name) == pytest.approx(expected / MONTH, nan_ok=True), name
    for month in (3, 6, 12):
        at = month * MONTH
        point = {name: stat(frame, TOTAL, paramcd, str(month), name) for name in ("survival", "ci_low", "ci_high")}
        assert point["survival"] == pytest.approx(float(sf.evaluate(at)), abs=1e-9)
        assert point["ci_low"] == pytest.approx(float(ci.low.evaluate(at)), abs=1e-6)
        assert point["ci_high"] == pytest.approx(float(ci.high.evaluate(at)), abs=1e-6)
        assert stat(frame, TOTAL, paramcd, str(month), "n_risk") == (times >= at).sum()


@pytest.mark.parametrize("output, paramcd", [("14.2.4.2", "TTHR"), ("14.2.5.2", "RFS"), ("14.2.6.2", "OS")])
def test_km_figures_carry_the_curve_censoring_and_numbers_at_risk(adam_dir, tlf_dir, xpt, shells, study, output,
                                                                    paramcd):
    data = AdamData(read_adam(adam_dir), study)
    (curve,) = analyze(data, [shells[output]])[output]
    adtte = xpt("adtte").query(f"PARAMCD == '{paramcd}'")
    times, events = adtte["AVAL"].to_numpy(float), 1 - adtte["CNSR"].to_numpy(int)
    sf, ci = km_reference(times, events)
    event_times = np.unique(times[events == 1])
    np.testing.assert_allclose(curve.time, event_times / MONTH)
    np.testing.assert_allclose(curve.survival, sf.evaluate(event_times))
    np.testing.assert_allclose(curve.censor_times, np.unique(times[events == 0]) / MONTH)
    at = np.asarray(shells[output].figure.at_risk_times) * MONTH
    np.testing.assert_array_equal(curve.at_risk, (times[None, :] >= at[:, None]).sum(axis=1))
    assert curve.median == pytest.approx(median_reference(sf, ci)[0] / MONTH, nan_ok=True)
    assert f"(N={len(adtte)})" in curve.label
    assert (tlf_dir / "figures" / f"{shells[output].file}.png").stat().st_size > 10_000
    assert len(Document(str(tlf_dir / f"{shells[output].file}.docx")).inline_shapes) == 1


# study and safety ---------------------------------------------------------------------------------
def test_demographics_and_disposition_match_plain_pandas(tlf_dir, xpt):
    adsl = xpt("adsl")
    demo, disp = ard(tlf_dir, "14.1.2"), ard(tlf_dir, "14.1.1")
    for level, subjects in columns_of(adsl[adsl["SAFFL"] == "Y"], (COHORT,)):
        assert stat(demo, level, "AGE", "", "mean") == pytest.approx(subjects["AGE"].mean())
        assert stat(demo, level, "AGE", "", "sd") == pytest.approx(subjects["AGE"].std())
        assert stat(demo, level, "AGE", "", "median") == pytest.approx(subjects["AGE"].median())
        assert stat(demo, level, "BSABL", "", "max") == pytest.approx(subjects["BSABL"].max())
        assert stat(demo, level, "SEX", "F", "n") == (subjects["SEX"] == "F").sum()
        assert stat(demo, level, "PRHSCTFL", "Y", "p") == pytest.approx((subjects["PRHSCTFL"] == "Y").mean())
        assert stat(disp, level, "DTHFL", "Y", "n") == (subjects["DTHFL"] == "Y").sum()
        assert stat(disp, level, "DTHFL", "N", "n") == (subjects["DTHFL"] != "Y").sum()
        for reason, n in subjects.loc[subjects["DCTREAS"] != "", "DCTREAS"].value_counts().items():
            assert stat(disp, level, "DCTREAS", reason, "n") == n
    assert stat(demo, TOTAL, "PRHSCTFL", "Y", "n") == 15  # published: prior alloHSCT 15/36


def test_exposure_reads_core_cycles_and_overall_duration(tlf_dir, xpt):
    adex = xpt("adex")
    frame = ard(tlf_dir, "14.1.3")
    core = adex.query("PARAMCD == 'NCYCLE' and AVISIT == 'CORE STUDY TOTAL'")["AVAL"]
    duration = adex.query("PARAMCD == 'TRTDURD' and AVISIT == 'OVERALL'")["AVAL"]
    assert stat(frame, TOTAL, "NCYCLE", "", "mean") == pytest.approx(core.mean())
    assert stat(frame, TOTAL, "NCYCLEGR", "5", "n") == (core == 5).sum()
    assert stat(frame, TOTAL, "TRTDURD", "", "median") == pytest.approx(duration.median())
    interrupted = adex.query("PARAMCD == 'NINTRP' and AVISIT == 'OVERALL' and AVAL > 0")["USUBJID"].nunique()
    assert stat(frame, TOTAL, "INTRFL", "Y", "n") == interrupted


def test_teae_overview_and_soc_pt_counts_match_plain_pandas(tlf_dir, xpt):
    adsl, adae = xpt("adsl"), xpt("adae")
    teae = adae[adae["TRTEMFL"] == "Y"]
    overview, soc_pt, related = ard(tlf_dir, "14.3.1.1"), ard(tlf_dir, "14.3.1.2"), ard(tlf_dir, "14.3.1.5")
    criteria = {"ANY": teae.index == teae.index, "GE3": teae["ATOXGRN"] >= 3, "GR4": teae["ATOXGRN"] == 4,
                "GR5": teae["ATOXGRN"] == 5, "SER": teae["AESER"] == "Y", "REL": teae["AREL"] == "RELATED",
                "INT": teae["DRINTFL"] == "Y", "DSC": teae["DRWDFL"] == "Y"}
    for level, subjects in columns_of(adsl[adsl["SAFFL"] == "Y"], (COHORT,)):
        mine = teae[teae["USUBJID"].isin(subjects["USUBJID"])]
        for name, mask in criteria.items():
            n = mine[mask[teae["USUBJID"].isin(subjects["USUBJID"])]]["USUBJID"].nunique()
            assert stat(overview, level, "TEAE", name, "n") == n, name
        socs = mine.groupby("AEBODSYS")["USUBJID"].nunique()
        pts = mine.groupby(["AEBODSYS", "AEDECOD"])["USUBJID"].nunique()
        got = soc_pt[(soc_pt["group_level"] == level) & (soc_pt["stat_name"] == "n")]
        got_soc = got[got["variable"] == "AEBODSYS"].set_index("variable_level")["stat"]
        got_pt = got[got["variable"] == "AEDECOD"].set_index("variable_level")["stat"]
        assert got_soc[got_soc > 0].to_dict() == socs.astype(float).to_dict()
        assert got_pt[got_pt > 0].to_dict() == {f"{s}{LEVEL_PATH_SEPARATOR}{p}": float(v) for (s, p), v in pts.items()}
    related_pts = teae[teae["AREL"] == "RELATED"].groupby("AEDECOD")["USUBJID"].nunique()
    got = related.query("group_level == @TOTAL and variable == 'AEDECOD' and stat_name == 'n'")
    assert sorted(got["stat"]) == sorted(related_pts.astype(float))


def test_worst_grade_table_agrees_with_the_adae_occurrence_flags(tlf_dir, xpt):
    """The ARD takes the worst grade by groupby; ADAE's AOCCPIFL flags the worst record per PT."""
    adae = xpt("adae")
    flagged = adae[(adae["TRTEMFL"] == "Y") & (adae["AOCCPIFL"] == "Y")]
    expected = (flagged.assign(level=flagged["AEBODSYS"] + LEVEL_PATH_SEPARATOR + flagged["AEDECOD"])
                .groupby(["level", "ATOXGR"]).size())
    frame = ard(tlf_dir, "14.3.1.3")
    got = frame[(frame["variable"] == "AEDECOD") & (frame["stat_name"] == "n") & (frame["group"] == "ATOXGR")
                & (frame["stat"] > 0)].set_index(["variable_level", "group_level"])["stat"]
    assert got.sort_index().to_dict() == expected.astype(float).sort_index().to_dict()
    subjects = (adae[adae["TRTEMFL"] == "Y"].groupby("USUBJID")["ATOXGRN"].max().value_counts())
    for grade in range(1, 6):
        assert stat(frame, str(grade), "TEAE", "ANY", "n") == subjects.get(float(grade), 0)
        assert stat(frame, str(grade), "TEAE", "ANY", "p") == pytest.approx(subjects.get(float(grade), 0) / 36)


# PK and cytokines ---------------------------------------------------------------------------------
@pytest.mark.parametrize("output, paramcd", [("14.4.1", "CSS"), ("14.4.2", "CL")])
def test_pk_statistics_by_dose_and_cycle(tlf_dir, xpt, output, paramcd):
    adsl, adpp = xpt("adsl"), xpt("adpp")
    pk = adpp[(adpp["PARAMCD"] == paramcd) & adpp["USUBJID"].isin(adsl.loc[adsl["PKFL"] == "Y", "USUBJID"])]
    frame = ard(tlf_dir, output)
    cells = 0
    for (dose, cycle), values in pk.groupby(["DOSEA", "ACYCLE"])["AVAL"]:
        level, var_level = f"{dose:g}", f"{cycle:g}"
        assert stat(frame, level, paramcd, var_level, "n") == len(values)
        assert stat(frame, level, paramcd, var_level, "mean") == pytest.approx(values.mean())
        assert stat(frame, level, paramcd, var_level, "sd") == pytest.approx(values.std(), nan_ok=True)
        assert stat(frame, level, paramcd, var_level, "cv") == pytest.approx(100 * values.std() / values.mean(),
                                                                             nan_ok=True)
        assert stat(frame, level, paramcd, var_level, "median") == pytest.approx(values.median())
        positive = np.log(values[values > 0])
        assert stat(frame, level, paramcd, var_level, "geo_mean") == pytest.approx(math.exp(positive.mean()))
        assert stat(frame, level, paramcd, var_level, "geo_cv") == pytest.approx(
            100 * math.sqrt(math.exp(positive.std() ** 2) - 1), nan_ok=True)
        cells += 1
    assert frame[frame["stat_name"] == "n"].shape[0] == cells == 5  # 5 ug/m2/day has no cycle 2: no record


def test_cytokine_peaks_by_schedule_cycle_and_step(tlf_dir, xpt):
    adsl, adlb = xpt("adsl"), xpt("adlb")
    peaks = adlb[(adlb["ANL01FL"] == "Y") & (adlb["PARCAT1"] == "CYTOKINES")].merge(adsl[["USUBJID", "SCHED"]])
    frame = ard(tlf_dir, "14.4.3")
    first = peaks[(peaks["AVISIT"] == "CYCLE 1") & (peaks["DOSESTPN"] == 1)]
    for (code, schedule), values in first.groupby(["PARAMCD", "SCHED"])["AVAL"]:
        assert stat(frame, schedule, code, "Cycle 1, dose step 1", "n") == len(values)
        assert stat(frame, schedule, code, "Cycle 1, dose step 1", "mean") == pytest.approx(values.mean())
        assert stat(frame, schedule, code, "Cycle 1, dose step 1", "max") == values.max()
    n_records = frame[frame["stat_name"] == "n"]["stat"].sum()
    assert n_records == len(peaks)


# listings -----------------------------------------------------------------------------------------
def test_listings_hold_every_record(tlf_dir, xpt, shells):
    adsl, adrs, adae = xpt("adsl"), xpt("adrs"), xpt("adae")
    expected = {"16.2.6.1": (adrs["PARAMCD"] == "OVRLRESP").sum(), "16.2.7.1": (adsl["DTHFL"] == "Y").sum(),
                "16.2.7.2": (adae["AESER"] == "Y").sum()}
    for output, n in expected.items():
        tables = Document(str(tlf_dir / f"{shells[output].file}.docx")).tables  # one per page
        header = [c.text for c in tables[0].rows[1].cells]
        assert header[0] == shells[output].columns[0].label
        assert sum(len(t.rows) - 2 for t in tables) == n  # title row, column header, one row per record
    (table,) = Document(str(tlf_dir / f"{shells['16.2.7.1'].file}.docx")).tables
    dead = adsl[adsl["DTHFL"] == "Y"].sort_values("USUBJID")
    days = ((dead["DTHDT"] - dead["TRTSDT"]).dt.days + 1).astype(int).astype(str).tolist()
    assert [r.cells[6].text for r in table.rows[2:]] == days


# documents: every printed number comes from the ARD ------------------------------------------------
FIELD = re.compile(r"\{(\w+)(?::(\w+))?\}")


def formatted(value: float, fmt: str | None) -> str:
    if not math.isfinite(value):
        return "NE"
    kind, digits = re.match(r"([a-z]+)(\d)", fmt or "d0").groups()
    digits = int(digits)
    if kind == "pct":
        return half_up(100 * value, digits)
    if kind == "d":
        return half_up(value, digits)
    decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0) if value else digits - 1
    text = half_up(value, decimals)
    if decimals and len(text.replace("-", "").replace(".", "").lstrip("0")) > digits:  # 9.996 -> 10.0
        text = half_up(value, decimals - 1)
    return text


def expected_cell(template: str, values: dict[str, float]) -> str:
    stats = {name for name, _ in FIELD.findall(template)}
    if {"n", "p"} <= stats and values["n"] == 0:
        return "0"
    return FIELD.sub(lambda m: formatted(values[m.group(1)], m.group(2)), template)


def expected_cells_by_column(shell: TableShell, frame: pd.DataFrame) -> list[Counter]:
    """The text of every filled cell, per table column, from the ARD and the shell's templates."""
    columns = []
    for spec in shell.columns:
        levels = spec.levels or [lv for lv in frame.loc[frame["group"] == spec.group, "group_level"].unique()
                                 if lv != TOTAL]
        columns += [(spec.group, lv) for lv in levels]
    cells = {(g, lv, v, vl): dict(zip(part["stat_name"], part["stat"]))
             for (g, lv, v, vl), part in frame.groupby(["group", "group_level", "variable", "variable_level"])}
    out = []
    for group, level in columns:
        texts = Counter()
        for block in shell.rows:
            lines = [block.cell] if block.stats is None else [s.cell for s in block.stats]
            variables = [block.variable] + ([block.child] if block.child else [])
            for variable in variables:
                if block.levels == "ard":
                    levels = [lv for lv in frame.loc[frame["variable"] == variable, "variable_level"].unique() if lv]
                else:
                    levels = [block.level] if block.levels is None else [lv.level for lv in block.levels]
                for var_level in levels:
                    key = next((k for k in cells if k[1:] == (level, variable, var_level)
                                and (group is None or k[0] == group)), None)
                    if key is not None:
                        texts.update(expected_cell(line, cells[key]) for line in lines)
        out.append(texts)
    return out


def test_each_table_document_prints_the_numbers_of_its_ard(tlf_dir, shells):
    """Per column, the filled body cells of the DOCX are exactly the cells computed from the ARD."""
    checked = 0
    for output, shell in shells.items():
        if not isinstance(shell, TableShell):
            continue
        frame = ard(tlf_dir, output)
        body = []
        for table in Document(str(tlf_dir / f"{shell.file}.docx")).tables:  # one per page
            grid = [[c.text for c in row.cells] for row in table.rows if len({c.text for c in row.cells}) > 1]
            body += grid[2 if any(c.span for c in shell.columns) else 1:]  # below the column headers
        for j, expected in enumerate(expected_cells_by_column(shell, frame), start=1):
            # decimal alignment pads later numbers of a cell with spaces ("1 ( 5.6)"): compare without
            printed = Counter(re.sub(r"([(,]) +", r"\1 ", re.sub(r" +", " ", row[j])).replace("( ", "(")
                              for row in body if row[j] not in ("", shell.absent_text))
            assert printed == expected, f"table {output}, column {j}: {dict(printed - expected)} printed, " \
                                        f"{dict(expected - printed)} expected"
            checked += sum(expected.values())
    assert checked > 1500


def test_primary_table_document_shows_the_published_cells(tlf_dir, shells):
    (table,) = Document(str(tlf_dir / f"{shells['14.2.1.1'].file}.docx")).tables
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows}
    assert rows["n (%)"][-1] == "25 (69.4)"
    assert rows["95% CI (exact)"][-1] == "(51.9, 83.7)"
    assert rows["CR"][-1] == "15 (41.7)" and rows["CRh*"][-1] == "10 (27.8)"


# wiring and errors --------------------------------------------------------------------------------
def test_index_lists_every_shell_and_ards_follow_the_contract(tlf_dir, shells):
    index = pd.read_csv(tlf_dir / "tlf_index.csv", dtype=str)
    assert sorted(index["id"]) == sorted(shells)
    frame = ard(tlf_dir, "14.3.1.2")
    assert list(frame.columns) == ["output", "group", "group_level", "variable", "variable_level", "stat_name",
                                   "stat_label", "stat"]
    assert set(frame["output"]) == {"14.3.1.2"}
    assert frame.loc[frame["group_level"] == TOTAL, "group"].eq("").all()


def test_missing_variables_are_reported_at_once_with_their_outputs(adam_dir, study, shells):
    datasets = read_adam(adam_dir)
    datasets["ADRS"] = datasets["ADRS"].drop(columns=["AVALC"])
    datasets["ADSL"] = datasets["ADSL"].drop(columns=["SCHED"])
    with pytest.raises(InputError) as caught:
        analyze(AdamData(datasets, study, source="adam"), list(shells.values()))
    messages = [str(p) for p in caught.value.problems]
    assert any("adam/adsl.xpt" in m and "SCHED" in m and "14.2.1.1" in m for m in messages)
    assert any("adam/adsl.xpt" in m and "SCHED" in m and "14.2.3" in m for m in messages)
    assert any("adam/adrs.xpt" in m and "AVALC" in m for m in messages)
    assert len(messages) == len(set(messages))


def test_a_failed_tlf_run_leaves_the_previous_outputs_untouched(adam_dir, tlf_dir, tmp_path):
    broken = tmp_path / "adam"
    broken.mkdir()
    for xpt_file in adam_dir.glob("*.xpt"):
        if xpt_file.name != "adtte.xpt":
            (broken / xpt_file.name).write_bytes(xpt_file.read_bytes())
    out = tmp_path / "tlf"
    out.mkdir()
    (out / "earlier.txt").write_text("an earlier run")
    result = CliRunner().invoke(main, ["-q", "--specs", str(SPECS), "tlf", "--adam", str(broken), "--out", str(out)])
    assert result.exit_code == 2 and "adtte.xpt" in result.output and "14.2.6.1" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["earlier.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adam", "tlf"]  # no staging folder left
    # a good run replaces the folder whole: no file of the earlier run survives
    good = CliRunner().invoke(main, ["-q", "--specs", str(SPECS), "tlf", "--adam", str(adam_dir), "--out", str(out)])
    assert good.exit_code == 0, good.output
    assert not (out / "earlier.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in tlf_dir.iterdir())


def test_a_shell_without_an_analysis_is_an_error(adam_dir, study, shells):
    stray = shells["14.2.1.2"].model_copy(update={"id": "14.9.9", "analysis": None})
    with pytest.raises(InputError) as caught:
        analyze(AdamData(read_adam(adam_dir), study), [stray])
    (problem,) = caught.value.problems
    assert problem.file.endswith("14_2_efficacy.yaml") and problem.key == "id 14.9.9.analysis"
    assert "no analysis" in problem.message and "time_to_event" in problem.message  # the kinds are listed


def with_analysis(shell, **analysis):
    return shell.model_copy(update={"analysis": AnalysisRef(**analysis)})


def test_bad_analysis_kinds_and_parameters_are_reported_at_once_before_any_computation(study, shells):
    """Unknown kind, unknown, missing and ill-typed parameters: each names the shell file and output
    id; nothing reads the data (an empty dataset set would fail otherwise)."""
    bad = [with_analysis(shells["14.2.1.2"], kind="response_ratio", paramcd="CR"),
           with_analysis(shells["14.2.6.1"], kind="time_to_event", variable="OS", tims=[3]),
           with_analysis(shells["14.2.4.1"], kind="time_to_event", where={"PARAMCD": "TTHR"}),
           with_analysis(shells["14.4.3"], kind="records_summary", variable="IL6", levels="AVISIT"),
           with_analysis(shells["14.3.1.4"], kind="summary", layers=[{"count": "SEX", "levels": ["M"], "missing": "F"},
                                                                       {"count": "AGE", "describe": "AGE"}]),
           with_analysis(shells["16.2.7.1"], kind="listing", recode={"COHORT": {"from": "ARMCD", "map": ["1"]}},
                         study_days="DTHDT")]
    with pytest.raises(InputError) as caught:
        analyze(AdamData({}, study), bad)
    found = {(Path(p.file).name, p.key): p.message for p in caught.value.problems}
    assert set(found) == {("14_2_efficacy.yaml", "id 14.2.1.2.analysis.kind"),
                          ("14_2_efficacy.yaml", "id 14.2.6.1.analysis.tims"),
                          ("14_2_efficacy.yaml", "id 14.2.4.1.analysis.variable"),
                          ("14_4_pkpd.yaml", "id 14.4.3.analysis.levels"),
                          ("14_3_safety.yaml", "id 14.3.1.4.analysis.layers"),
                          ("16_listings.yaml", "id 16.2.7.1.analysis.recode"),
                          ("16_listings.yaml", "id 16.2.7.1.analysis.study_days")}
    assert "unknown analysis kind 'response_ratio'" in found[("14_2_efficacy.yaml", "id 14.2.1.2.analysis.kind")]
    assert "accepted: variable, where, dataset, times" in found[("14_2_efficacy.yaml", "id 14.2.6.1.analysis.tims")]
    assert "'variable' is required" in found[("14_2_efficacy.yaml", "id 14.2.4.1.analysis.variable")]
    layers = found[("14_3_safety.yaml", "id 14.3.1.4.analysis.layers")]  # both layers' problems, by index
    assert "0.count: Value error, missing level 'F' is not one of levels" in layers
    assert "1: a layer has exactly one of the keys count, describe, subjects, events" in layers


def test_the_output_id_and_the_parameters_come_from_the_shell(adam_dir, study, shells, xpt):
    """The same kind computes another output when the shell says so: the ARD carries the shell's id,
    its variable, its time points in its unit and its columns."""
    shell = with_analysis(shells["14.2.6.1"].model_copy(update={"id": "14.9.9"}), kind="time_to_event",
                          where={"PARAMCD": "OS"}, variable="SURV", times=[100], columns={"by": ["SEX"]})
    frame = analyze(AdamData(read_adam(adam_dir), study), [shell])["14.9.9"]
    assert set(frame["output"]) == {"14.9.9"}
    assert set(frame["variable"]) == {"BIGN", "SURV"}
    adsl, adtte = xpt("adsl"), xpt("adtte")
    os_ = adtte[adtte["PARAMCD"] == "OS"].merge(adsl.loc[adsl["SAFFL"] == "Y", ["USUBJID", "SEX"]])
    for sex, part in os_.groupby("SEX"):
        assert stat(frame, sex, "SURV", "", "events") == (part["CNSR"] == 0).sum()
        assert stat(frame, sex, "SURV", "100", "n_risk") == (part["AVAL"] >= 100).sum()  # days: the default unit
    assert stat(frame, TOTAL, "BIGN", "", "N") == len(os_)


def test_listing_recode_and_flag_window_are_shell_parameters(adam_dir, study, shells, xpt):
    adsl = xpt("adsl")
    dead = adsl[(adsl["SAFFL"] == "Y") & (adsl["DTHFL"] == "Y")].sort_values("USUBJID")
    after_last_dose = (dead["DTHDT"] - dead["TRTEDT"]).dt.days.to_numpy()
    window = int(np.median(after_last_dose))  # splits the deaths into two groups
    some = sorted(dead["ARMCD"].unique())[0]
    shell = with_analysis(shells["16.2.7.1"], kind="listing", where={"DTHFL": "Y"}, subject_variables=["ARMCD"],
                          recode={"COHORT": {"from": "ARMCD", "map": {some: "X"}}},
                          study_days={"DTHDY": {"date": "DTHDT", "reference": "TRTSDT"}},
                          flags={"DTHTEFL": {"DTHDT": {"le": {"var": "TRTEDT", "days": window}}}})
    frame = analyze(AdamData(read_adam(adam_dir), study), [shell])["16.2.7.1"].sort_values("USUBJID")
    assert frame["DTHTEFL"].tolist() == ["Y" if d <= window else "N" for d in after_last_dose]
    assert frame["COHORT"].tolist() == ["X" if a == some else a for a in dead["ARMCD"]]  # uncoded: ARMCD


def test_xpt_folder_reads_each_requested_column_once_with_dates_as_datetimes(adam_dir, study, xpt):
    folder = AdamData(XptFolder(adam_dir), study)
    first = folder.frame("ADSL", ["USUBJID", "TRTSDT"])
    assert list(first.columns) == ["USUBJID", "TRTSDT"]
    assert pd.api.types.is_datetime64_any_dtype(first["TRTSDT"])
    both = folder.frame("ADSL", ["DTHFL", "USUBJID"])
    assert list(both.columns) == ["DTHFL", "USUBJID"]
    assert both["DTHFL"].tolist() == xpt("adsl")["DTHFL"].tolist()  # blanks stay ""
    assert list(folder.datasets._read["ADSL"]) == ["USUBJID", "TRTSDT", "DTHFL"]


def _as_pyreadstat_reads(path: Path) -> pd.DataFrame:
    return _normalized(*pyreadstat.read_xport(str(path)))


def test_xpt_folder_gives_the_frames_pyreadstat_gives(adam_dir):
    """The numpy XPT reader decodes what the analyses read; the frames (values, dtypes, dates)
    are those pyreadstat's conversions gave, column by column as asked and whole."""
    folder = XptFolder(adam_dir)
    for name, path in folder.paths.items():
        expected = _as_pyreadstat_reads(path)
        columns = list(expected.columns)
        for start in range(0, len(columns), 7):
            part = columns[start:start + 7][::-1]
            pd.testing.assert_frame_equal(folder.read(name, part), expected[part], check_exact=True)
        pd.testing.assert_frame_equal(folder.read(name, columns), expected, check_exact=True)


@pytest.mark.parametrize("version", [5, 8])
def test_xpt_folder_converts_sas_dates_as_pyreadstat_does(tmp_path, version):
    """Dates, date-times (fractions, before 1960, all missing), time formats and an empty dataset;
    version 8 is not the numpy reader's: pyreadstat reads it."""
    nan = np.nan
    frame = pd.DataFrame({"USUBJID": ["A", "", "C", "D"], "DALL": [nan] * 4, "DPART": [18000.0, nan, -5.7, 18000.9],
                          "MDYALL": [nan] * 4, "MDY": [1.0, 2.5, nan, -400.2], "DTALL": [nan] * 4,
                          "DT": [1.5e9, nan, -1000.25, 1.23456789e9 + 0.0000015], "E8DT": [86399.9999996, 0.5, nan, 1e9],
                          "ISODA": [0.0, 1.0, 2.0, 3.0], "TM": [3600.0, nan, 5.5, 0.0], "NUM": [1.0, nan, 3.0, 4.0]})
    formats = {"DALL": "DATE9.", "DPART": "DATE9.", "MDYALL": "MMDDYY10.", "MDY": "MMDDYY10.", "DTALL": "DATETIME20.",
               "DT": "DATETIME20.", "E8DT": "E8601DT.", "ISODA": "E8601DA.", "TM": "TIME8.", "NUM": "8.2"}
    for name, rows in (("some", frame), ("none", frame.iloc[:0])):
        pyreadstat.write_xport(rows, str(tmp_path / f"{name}.xpt"), file_format_version=version,
                               variable_format=formats, table_name=name.upper())
    folder = XptFolder(tmp_path)
    for name in ("SOME", "NONE"):
        expected = _as_pyreadstat_reads(folder.paths[name])
        pd.testing.assert_frame_equal(folder.read(name, list(frame.columns)), expected, check_exact=True)
