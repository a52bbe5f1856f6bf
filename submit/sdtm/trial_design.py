"""SDTM mapping algorithms: trial_design (registered on import)."""

from __future__ import annotations
