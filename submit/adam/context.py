"""What a derivation may read: the SDTM domains, the ADaM datasets built before it, the study
configuration; and where it may leave QC evidence (written under outputs/qc/ by the build)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from submit.config import StudyConfig
from submit.errors import InputError, Problem


@dataclass
class AdamContext:
    sdtm: dict[str, pd.DataFrame]  # by upper-case domain name
    study: StudyConfig
    adam: dict[str, pd.DataFrame] = field(default_factory=dict)  # finished datasets, by name
    qc: dict[str, pd.DataFrame] = field(default_factory=dict)  # file stem -> evidence frame
    dataset: str = ""  # the dataset being derived

    def domain(self, name: str) -> pd.DataFrame:
        """An SDTM domain or an ADaM dataset built earlier (ADaM names start with AD)."""
        source = self.adam if name.startswith("AD") else self.sdtm
        if name not in source:
            kind = "ADaM dataset (derive it earlier in the build order)" if name.startswith("AD") else "SDTM domain"
            raise InputError(f"{self.dataset} needs {name}", [Problem(name, f"no {kind} {name}")])
        return source[name]

    @property
    def adsl(self) -> pd.DataFrame:
        return self.domain("ADSL")
