"""Comparative statistics of randomized groups, one import for the TLF kinds.

Each function takes plain arrays (one value per subject) or counts and returns a frozen dataclass
whose field names are the ARD stat names (DataFrame columns where there is one row per level):

* `log_rank(time, event, group, strata=None)` -> LogRank: `chisq`, `df`, `p_value`.
* `cox_ph(time, event, group, reference, strata=None)` -> CoxPH: `hazard_ratios` (one row per
  level but the reference: `hr`, `hr_ci_low`, `hr_ci_high`, `p_value`), `wald_chisq`,
  `wald_p_value`, `lr_chisq`, `lr_p_value`, `score_chisq`, `score_p_value`, `df`.
* `proportion_difference(x1, n1, x2, n2, method=)` -> ProportionDifference: `diff`, `diff_ci_low`,
  `diff_ci_high`, `method` (miettinen-nurminen, newcombe, wald); `proportion_differences(...)`:
  the same as a DataFrame, one row per comparison, for arrays of counts.
* `cmh_test(tables)` / `cmh_test_records(outcome, group, strata, response=, reference=)` ->
  CochranMantelHaenszel: `chisq`, `df`, `p_value`, `odds_ratio`, `or_ci_low`, `or_ci_high`.
* `fisher_exact_rows(events1, n1, events2, n2)` -> array of `p_value`, one per row.
* `ancova(response, group, reference, covariates)` -> Ancova: `lsmeans` (`lsmean`, `lsmean_se`,
  `lsmean_ci_low`, `lsmean_ci_high`) and `differences` (`lsmean_diff`, `lsmean_diff_se`,
  `lsmean_diff_ci_low`, `lsmean_diff_ci_high`, `p_value`).

Conventions, references and the choices made (Breslow ties, SAS-default LS means, CMH without
continuity correction) are in the docstrings of survival_compare.py, proportions.py and ancova.py.
"""

from __future__ import annotations

from submit.stats.ancova import Ancova, ancova
from submit.stats.proportions import (
    CochranMantelHaenszel,
    ProportionDifference,
    cmh_test,
    cmh_test_records,
    fisher_exact_rows,
    proportion_difference,
    proportion_differences,
)
from submit.stats.survival_compare import CoxPH, LogRank, cox_ph, log_rank

__all__ = [
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
]
