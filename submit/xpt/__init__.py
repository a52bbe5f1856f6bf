"""SAS XPT v5 transport files as FDA expects them: metadata applied, every constraint checked first,
byte-reproducible output, files over 5 GB refused or split.

    from submit.xpt import XptDataset, XptVariable, check_xpt, write_xpt, write_xpt_split
"""

from submit.xpt.check import check_xpt
from submit.xpt.model import FDA_MAX_BYTES, Violation, XptDataset, XptVariable
from submit.xpt.writer import write_xpt, write_xpt_split

__all__ = ["FDA_MAX_BYTES", "Violation", "XptDataset", "XptVariable", "check_xpt", "write_xpt", "write_xpt_split"]
