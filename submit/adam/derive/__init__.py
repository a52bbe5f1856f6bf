"""The derivation library. Importing it registers every derivation (see submit.adam.registry)."""

from submit.adam.derive import (basics, bds, computed, dates, dose_timing, doses, dosing,  # noqa: F401
                                emergence, events, exposure, extreme_event, labs, pk, relative_flag,
                                response, tte, values)
