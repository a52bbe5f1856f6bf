"""The statistics the TLFs print: SAS-style rounding and display, exact binomial CIs,
Kaplan-Meier as PROC LIFETEST computes it, PROC MEANS-style summaries, and the comparisons of
randomized groups (submit/stats/compare.py: log-rank, Cox, proportion differences, CMH, Fisher,
ANCOVA)."""

from __future__ import annotations

from submit.stats.binomial import clopper_pearson
from submit.stats.compare import (
    Ancova,
    CochranMantelHaenszel,
    CoxPH,
    LogRank,
    ProportionDifference,
    ancova,
    cmh_test,
    cmh_test_records,
    cox_ph,
    fisher_exact_rows,
    log_rank,
    proportion_difference,
    proportion_differences,
)
from submit.stats.descriptive import STAT_LABELS, STATS, summarize, to_long
from submit.stats.km import KaplanMeier, kaplan_meier
from submit.stats.rounding import (
    MISSING,
    fmt_ci,
    fmt_est_ci,
    fmt_mean_sd,
    fmt_n_pct,
    fmt_num,
    fmt_pct,
    fmt_range,
    sas_round,
)

__all__ = [
    "MISSING",
    "Ancova",
    "CochranMantelHaenszel",
    "CoxPH",
    "LogRank",
    "ProportionDifference",
    "ancova",
    "cmh_test",
    "cmh_test_records",
    "cox_ph",
    "fisher_exact_rows",
    "log_rank",
    "proportion_difference",
    "proportion_differences",
    "STATS",
    "STAT_LABELS",
    "KaplanMeier",
    "clopper_pearson",
    "fmt_ci",
    "fmt_est_ci",
    "fmt_mean_sd",
    "fmt_n_pct",
    "fmt_num",
    "fmt_pct",
    "fmt_range",
    "kaplan_meier",
    "sas_round",
    "summarize",
    "to_long",
]
