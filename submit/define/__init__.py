"""Define-XML 2.1 beside the XPT files: built from the spec (lxml), validated against the CDISC
schema and against the XPT files, rendered to define.html with the CDISC stylesheet.

    from submit.define import write_define, schema_errors, consistency_problems
"""

from submit.define.consistency import check_consistency, consistency_problems
from submit.define.inputs import DefineInputs, load_define_inputs
from submit.define.schema import schema_errors
from submit.define.write import write_define
from submit.define.xml import build_define

__all__ = ["DefineInputs", "build_define", "check_consistency", "consistency_problems", "load_define_inputs",
           "schema_errors", "write_define"]
