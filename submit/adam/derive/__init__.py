"""The derivation library. Importing it registers every derivation (see submit.adam.registry)."""

from submit.adam.derive import (  # noqa: F401
    basics, categories, dates, dosing, events, exposure, extreme_event, labs, pk, response, tte,
)
