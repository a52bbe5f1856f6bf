"""The derivation library. Importing it registers every derivation (see submit.adam.registry)."""

from submit.adam.derive import (basics, bds, dates, doses, dosing, events, exposure, extreme_event,  # noqa: F401
                                labs, pk, relative_flag, response, tte, values)
