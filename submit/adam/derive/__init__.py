"""The derivation library. Importing it registers every derivation (see submit.adam.registry)."""

from submit.adam.derive import (basics, bds, dates, dosing, events, exposure, extreme_event, labs, pk,  # noqa: F401
                                relative_flag, response, tte)
