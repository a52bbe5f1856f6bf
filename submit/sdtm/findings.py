"""SDTM mapping algorithms: findings (registered on import)."""

from __future__ import annotations
