"""The analysis layer of the TLFs: from the ADaM datasets to the result each shell draws (an ARD
for a table, a data frame for a listing, Kaplan-Meier curves for a figure).

    data = AdamData(XptFolder(adam_folder), study)        # or AdamData({name: frame}, study)
    results = analyze(data, load_shells(specs / "tlf"))      # {output id: ARD | frame | curves}

Generic kinds, one module each (`layers`: the layered summary table; `grades`: worst grade per
subject; `survival`: time-to-event table and Kaplan-Meier figure; `records`: statistics of records;
`listing_frame`: listings), built on `summary` (table columns as subject sets, vectorized counts and
descriptive statistics) and `params` (what every kind takes from its shell: columns, dataset,
where). `registry.ANALYSES` is the closed vocabulary of kinds a shell names (`analysis: {kind:
summary, columns: ..., layers: [...]}`), each a function(data, shell, **params).
"""

from submit.tlf.analysis.data import AdamData, XptFolder, read_adam
from submit.tlf.analysis.registry import ANALYSES, analyze

__all__ = ["ANALYSES", "AdamData", "XptFolder", "analyze", "read_adam"]
