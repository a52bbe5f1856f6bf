"""SDTM mapping algorithms: interventions (registered on import)."""

from __future__ import annotations
