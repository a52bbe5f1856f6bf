"""SDTM: mapping specs executed by a closed vocabulary of named algorithms."""

# Importing the algorithm modules registers their algorithms by name.
from submit.sdtm import algorithms, elements, findings, interventions, trial_tables, visits  # noqa: F401
