"""The derivation library. Importing it registers every derivation (see submit.adam.registry)."""

from submit.adam.derive import (  # noqa: F401
    basics, computed, dates, dose_timing, dosing, emergence, events, exposure, labs, pk, response, tte,
)
