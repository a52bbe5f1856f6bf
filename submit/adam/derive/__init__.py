"""The derivation library. Importing it registers every derivation (see submit.adam.registry)."""

from submit.adam.derive import basics, dates, doses, dosing, events, exposure, labs, pk, response, tte, values  # noqa: F401
