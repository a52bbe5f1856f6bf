"""The derivation library. Importing it registers every derivation (see submit.adam.registry)."""

from submit.adam.derive import basics, bds, dates, dosing, events, exposure, labs, pk, response, tte  # noqa: F401
