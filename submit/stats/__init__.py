"""The statistics the TLFs print: SAS-style rounding and display, exact binomial CIs,
Kaplan-Meier as PROC LIFETEST computes it, and PROC MEANS-style summaries."""

from __future__ import annotations

from submit.stats.binomial import clopper_pearson
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
