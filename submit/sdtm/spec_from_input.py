"""SDTM metadata of a package taken as given, from its own attributes, so that its define.xml can
be written (a package without one is rejected: FDA technical rejection criterion 1736).

What the input carries is what the define says: dataset and variable names, labels, SAS types
and lengths (XPT, SAS7BDAT, Dataset-JSON, Parquet with its field metadata); a character --DTC is
an ISO 8601 datetime; a number is an integer when every value is whole. What it cannot carry is
not invented: every variable's origin is "Not Available" (Define-XML 2.1's origin for legacy
data), there are no codelists or methods, and a comment on each dataset says where its metadata
came from. The dataset's class (and its label, where the input has none) come from the SDTMIG domain (a sponsor
domain's class from its topic variable), its keys from the SDTMIG key variables it has, its structure (one record per key) from them. The
derived spec is also written in the P21 sheets (qc/sdtm_spec_from_input/) to start SDTM specs from.
"""

from __future__ import annotations

import pandas as pd

from submit.config import StudyConfig
from submit.spec.model import Comment, Dataset, Spec, Study, Variable

# SDTMIG domains: standard label and class. A domain not listed takes its input label and a class
# from its topic variable (--TESTCD findings, --TRT interventions, --TERM events).
DOMAINS = {
    "DM": ("Demographics", "SPECIAL PURPOSE"), "CO": ("Comments", "SPECIAL PURPOSE"),
    "SE": ("Subject Elements", "SPECIAL PURPOSE"), "SV": ("Subject Visits", "SPECIAL PURPOSE"),
    "SM": ("Subject Disease Milestones", "SPECIAL PURPOSE"),
    "AG": ("Procedure Agents", "INTERVENTIONS"), "CM": ("Concomitant/Prior Medications", "INTERVENTIONS"),
    "EC": ("Exposure as Collected", "INTERVENTIONS"), "EX": ("Exposure", "INTERVENTIONS"),
    "ML": ("Meal Data", "INTERVENTIONS"), "PR": ("Procedures", "INTERVENTIONS"),
    "SU": ("Substance Use", "INTERVENTIONS"),
    "AE": ("Adverse Events", "EVENTS"), "BE": ("Biospecimen Events", "EVENTS"),
    "CE": ("Clinical Events", "EVENTS"), "DS": ("Disposition", "EVENTS"), "DV": ("Protocol Deviations", "EVENTS"),
    "HO": ("Healthcare Encounters", "EVENTS"), "MH": ("Medical History", "EVENTS"),
    "DD": ("Death Details", "FINDINGS"), "EG": ("ECG Test Results", "FINDINGS"),
    "IE": ("Inclusion/Exclusion Criteria Not Met", "FINDINGS"), "IS": ("Immunogenicity Specimen Assessments", "FINDINGS"),
    "LB": ("Laboratory Test Results", "FINDINGS"), "MB": ("Microbiology Specimen", "FINDINGS"),
    "MI": ("Microscopic Findings", "FINDINGS"), "MS": ("Microbiology Susceptibility", "FINDINGS"),
    "PC": ("Pharmacokinetics Concentrations", "FINDINGS"), "PE": ("Physical Examination", "FINDINGS"),
    "PP": ("Pharmacokinetics Parameters", "FINDINGS"), "QS": ("Questionnaires", "FINDINGS"),
    "RS": ("Disease Response and Clin Classification", "FINDINGS"), "SC": ("Subject Characteristics", "FINDINGS"),
    "SS": ("Subject Status", "FINDINGS"), "TR": ("Tumor/Lesion Results", "FINDINGS"),
    "TU": ("Tumor/Lesion Identification", "FINDINGS"), "VS": ("Vital Signs", "FINDINGS"),
    "FA": ("Findings About Events or Interventions", "FINDINGS ABOUT"),
    "TA": ("Trial Arms", "TRIAL DESIGN"), "TD": ("Trial Disease Assessments", "TRIAL DESIGN"),
    "TE": ("Trial Elements", "TRIAL DESIGN"), "TI": ("Trial Inclusion/Exclusion Criteria", "TRIAL DESIGN"),
    "TS": ("Trial Summary", "TRIAL DESIGN"), "TV": ("Trial Visits", "TRIAL DESIGN"),
    "RELREC": ("Related Records", "RELATIONSHIP"),
}
# SDTMIG key variables by class (-- the domain prefix), the first present ones being the keys.
KEYS = {"DM": ("STUDYID", "USUBJID"), "SV": ("STUDYID", "USUBJID", "VISITNUM", "SVSTDTC"),
        "SPECIAL PURPOSE": ("STUDYID", "USUBJID", "--SEQ"), "TRIAL DESIGN": ("STUDYID", "--PARMCD", "--SEQ", "ARMCD",
        "TAETORD", "ETCD", "VISITNUM", "IETESTCD"), "RELATIONSHIP": ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR",
        "IDVARVAL", "QNAM", "RELID")}
GENERAL_KEYS = ("STUDYID", "USUBJID", "--SEQ")
COMMENT = "COM.SDTM.INPUT"


def _class(name: str, columns: list[str]) -> str:
    if name in DOMAINS:
        return DOMAINS[name][1]
    if name.startswith("SUPP"):
        return "RELATIONSHIP"
    topic = {c[2:] for c in columns if c.startswith(name[:2])}
    return "FINDINGS" if "TESTCD" in topic else "INTERVENTIONS" if "TRT" in topic else "EVENTS"


def _label(name: str, given: str) -> str:
    """The input's label; without one, the SDTMIG domain's."""
    if given:
        return given
    if name.startswith("SUPP") and len(name) > 4:
        return f"Supplemental Qualifiers for {name[4:]}"
    return DOMAINS.get(name, (name, ""))[0]


def _data_type(name: str, values: pd.Series, char: bool) -> str:
    if char:
        return "datetime" if name.endswith("DTC") else "text"
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return "integer" if len(numbers) == 0 or bool((numbers == numbers.round()).all()) else "float"


def spec_from_input(datasets: dict, study: StudyConfig) -> Spec:
    """The SDTM spec of `datasets` (name -> InputDataset of submit.sdtm.package_input)."""
    ds_rows, var_rows = [], []
    for order, (name, ds) in enumerate(sorted(datasets.items()), start=1):
        columns = list(ds.data.columns)
        cls = _class(name, columns)
        wanted = [k.replace("--", name[:2]) for k in KEYS.get(name, KEYS.get(cls, GENERAL_KEYS))]
        keys = tuple(k for k in wanted if k in columns)
        ds_rows.append(Dataset(name=name, label=_label(name, ds.meta.label), cls=cls,
                               structure="One record per " + ", ".join(k for k in keys if k != "STUDYID"),
                               purpose="Tabulation", keys=keys, repeating=name != "DM" and cls != "TRIAL DESIGN",
                               reference=cls == "TRIAL DESIGN", comment=COMMENT, order=order))
        for position, column in enumerate(columns, start=1):
            meta = ds.meta.variables[column]
            var_rows.append(Variable(dataset=name, name=column, label=meta.label, order=position,
                                     length=meta.length if meta.type == "char" else None,
                                     data_type=_data_type(column, ds.data[column], meta.type == "char"),
                                     display_format=meta.format, origin="Not Available",
                                     core="Req" if column in keys and ds.data[column].notna().all() else "Perm"))
    return Spec(study=Study(name=study.study.id, description=study.study.title, protocol=study.study.id,
                            standard="SDTMIG", standard_version=str(study.standards.sdtmig)),
                datasets=tuple(ds_rows), variables=tuple(var_rows),
                comments=(Comment(COMMENT, "Taken as given from the SDTM package the build started from; metadata "
                                           "from the package's own attributes (names, labels, types, lengths). "
                                           "Origins are not available."),))
