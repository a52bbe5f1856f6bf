"""The part of a spec a define.xml describes: what the package holds.

A domain with no records is not submitted (SDTMIG 3.4 section 1.?; FDA's validator and Pinnacle 21
expect no empty datasets), so a dataset of the spec that the package does not hold is left out of
the define.xml with all its variables and value-level metadata. A value-level entry whose where
clause selects no record (a study without deaths has no DD record of TESTCD PRCDTH) describes
nothing and is left out too, with its where clause when no other entry uses it. Both are logged;
neither is an error."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

import pandas as pd

from submit.define.measure import Selector
from submit.spec.model import Spec

log = logging.getLogger("submit.define")


def described_part(spec: Spec, datasets: Mapping[str, pd.DataFrame]) -> Spec:
    """`spec` without the datasets absent from `datasets` and without the value-level entries
    (and their where clauses) that select no record."""
    absent = [d.name for d in spec.datasets if d.name not in datasets]
    if absent:
        log.info("define.xml: no records, not in the package: %s", ", ".join(absent))
    clauses = {w.id: w for w in spec.where_clauses}
    kept, dropped = [], []
    selectors: dict[str, Selector] = {}  # by dataset: its text columns factorized once
    for entry in spec.value_level:
        if entry.dataset not in datasets:
            continue
        clause = clauses.get(entry.where_clause)
        select = selectors.setdefault(entry.dataset, Selector(datasets[entry.dataset]))
        if clause is not None and all(c.dataset == entry.dataset for c in clause.conditions) and not select.mask(
                [(c.variable, c.comparator, c.values) for c in clause.conditions]).any():
            dropped.append(entry)
        else:
            kept.append(entry)
    if dropped:
        log.info("define.xml: value-level metadata selecting no record left out: %s",
                 ", ".join(f"{e.dataset}.{e.variable} ({e.where_clause})" for e in dropped))
    used = {e.where_clause for e in kept}
    gone = {e.where_clause for e in dropped} - used
    gone |= {w.id for w in spec.where_clauses if w.conditions and all(c.dataset in absent for c in w.conditions)}
    return dataclasses.replace(
        spec,
        datasets=tuple(d for d in spec.datasets if d.name in datasets),
        variables=tuple(v for v in spec.variables if v.dataset in datasets),
        value_level=tuple(kept),
        where_clauses=tuple(w for w in spec.where_clauses if w.id not in gone))
