"""The pharmaverse study end to end: `submit --specs specs/pharmaverse build --sdtm DIR` on the SDTM
as pharmaverse publishes it (Parquet, labels in the field metadata, no define.xml, no SDTM specs)
publishes the package with `submit validate` reporting 0 errors.

What the build solves: the SDTM define.xml is written from the package's own attributes (FDA
rejection criterion 1736 otherwise); TS's typographic apostrophes are transliterated to ASCII
(qc/sdtm_transliteration.csv); the defects of the given SDTM are corrected as the study declares
(specs/pharmaverse/sdtm_corrections.yaml: study days of EG, TR and AE recomputed by the SDTMIG rule,
TS's missing study start date SSTDTC added from DM), every changed value listed in
qc/sdtm_corrections.csv; the ADaM is derived, written and described by its define.xml. The warnings
left (TS parameters the pilot study's TS predates) are explained in validation_explanations.yaml."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pharmaverse import SPECS, export_sdtm, reference
from test_stats_compare import rscript, run_r  # noqa: F401  (rscript: the fixture skipping without R)

pytestmark = pytest.mark.slow

ADAM = {"ADSL", "ADAE", "ADEX", "ADVS", "ADLB", "ADPC", "ADPP", "ADRS", "ADTTE"}
STUDY_FOLDER = "m5/datasets/cdiscpilot01"


@pytest.fixture(scope="module")
def sdtm_dir(tmp_path_factory):
    return export_sdtm(tmp_path_factory.mktemp("pharmaverse_sdtm"))


@pytest.fixture(scope="module")
def published(sdtm_dir, tmp_path_factory):
    from submit.cli import main

    out = tmp_path_factory.mktemp("pharmaverse_package") / "out"
    result = CliRunner().invoke(main, ["--specs", str(SPECS), "build", "--sdtm", str(sdtm_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_published_with_no_validation_error(published):
    report = json.loads((published / "qc" / "validation.json").read_text(encoding="utf-8"))
    assert report["summary"]["errors"] == 0
    warned = {i["rule"] for i in report["issue_summary"] if i["severity"] == "Warning"}
    assert all(i["explanation"] for i in report["issue_summary"]), "every warning left is explained"
    # TS parameters the pilot study's TS predates, and cross-domain properties of the given SDTM (visits
    # not in SV, dates without --DY, TR links, PC BLQ coding, dates after RFPENDTC, VS NOT DONE without
    # reason) and of admiral's ADTTE (no treatment variable), each explained
    assert warned <= {"SUB-FDA-006", "SUB-SDTM-013", "SUB-SDTM-014", "SUB-SDTM-015", "SUB-SDTM-016",
                      "SUB-SDTM-017", "SUB-SDTM-018", "SUB-SDTM-020", "SUB-ADAM-011"}
    assert {d["dataset"] for d in report["datasets"] if d["standard"] == "ADaM"} == ADAM


def test_manifest_lists_the_packages_datasets(published):
    files = {f["path"] for f in json.loads((published / "manifest.json").read_text(encoding="utf-8"))["files"]}
    assert {f"{STUDY_FOLDER}/analysis/adam/datasets/{d.lower()}.xpt" for d in ADAM} <= files
    assert f"{STUDY_FOLDER}/analysis/adam/datasets/define.xml" in files
    assert {f"{STUDY_FOLDER}/tabulations/sdtm/{d}" for d in ("define.xml", "eg.xpt", "ts.xpt")} <= files
    assert "qc/sdtm_corrections.csv" in files and "qc/validation.json" in files


def test_sdtm_define_from_the_packages_own_attributes(published, sdtm_dir):
    folder = published / STUDY_FOLDER / "tabulations" / "sdtm"
    assert (folder / "define.xml").is_file() and (folder / "define.html").is_file()
    assert {p.stem for p in folder.glob("*.xpt")} == {p.stem for p in sdtm_dir.glob("*.parquet")}
    spec = pd.read_csv(published / "qc" / "sdtm_spec_from_input" / "Variables.csv", dtype=str)
    dm = spec[spec["Dataset"] == "DM"].set_index("Variable")
    assert dm.loc["USUBJID", "Label"] == "Unique Subject Identifier"
    assert dm.loc["AGE", "Data Type"] == "integer" and dm.loc["RFSTDTC", "Data Type"] == "datetime"


def test_typographic_text_transliterated_and_listed(published):
    changes = pd.read_csv(published / "qc" / "sdtm_transliteration.csv")
    assert changes["file"].tolist() == ["ts.parquet"] * 3 and set(changes["variable"]) == {"TSVAL"}
    assert changes["before"].str.contains("Alzheimer\u2019s").all()
    assert (changes["after"] == changes["before"].str.replace("\u2019", "'")).all()


def _study_day_disagreements(sdtm_dir, domain: str) -> set[tuple[int, str]]:
    """(1-based row, variable) of every --DY/--STDY/--ENDY that is not the SDTMIG study day of its
    date (days from DM.RFSTDTC, +1 on or after it; missing unless both dates are complete)."""
    df = pd.read_parquet(sdtm_dir / f"{domain.lower()}.parquet")
    dm = pd.read_parquet(sdtm_dir / "dm.parquet").set_index("USUBJID")
    start = pd.to_datetime(df["USUBJID"].map(dm["RFSTDTC"]).str[:10], format="%Y-%m-%d", errors="coerce")
    found = set()
    for day, dtc in (("DY", "DTC"), ("STDY", "STDTC"), ("ENDY", "ENDTC")):
        if domain + day not in df:
            continue
        date = pd.to_datetime(df[domain + dtc].str[:10], format="%Y-%m-%d", errors="coerce")
        days = (date - start).dt.days
        expected = days.where(days < 0, days + 1)
        given = df[domain + day]
        wrong = ~((given == expected) | (given.isna() & expected.isna()))
        found |= {(i + 1, domain + day) for i in df.index[wrong]}
    return found


def test_given_sdtm_defects_corrected_and_listed(published, sdtm_dir):
    changes = pd.read_csv(published / "qc" / "sdtm_corrections.csv")
    days = changes[changes["correction"] == "study_day"]
    counts = days.groupby("dataset").size().to_dict()
    expected = {d: _study_day_disagreements(sdtm_dir, d) for d in ("EG", "TR", "AE")}
    assert counts == {d: len(v) for d, v in expected.items()} and counts["EG"] == 21183 and counts["TR"] == 35461
    for d, cells in expected.items():
        assert set(zip(days.loc[days["dataset"] == d, "row"], days.loc[days["dataset"] == d, "variable"])) == cells
    # SSTDTC: the earliest first treatment of an enrolled subject (DM has no consent dates)
    dm = pd.read_parquet(sdtm_dir / "dm.parquet")
    assert dm["RFICDTC"].isna().all()
    start = dm.loc[dm["ARMCD"].str.upper() != "SCRNFAIL", "RFSTDTC"].dropna().str[:10].min()
    ts = changes[changes["correction"] == "ts_parameter"].set_index("variable")
    assert ts.loc["TSPARMCD", "after"] == "SSTDTC" and ts.loc["TSVAL", "after"] == start
    assert ts.loc["TSPARM", "after"] == "Study Start Date" and ts["before"].isna().all()
    assert set(changes["correction"]) == {"study_day", "ts_parameter"}


def test_tlf_package_holds_the_csr_core_set(published):
    index = pd.read_csv(published / "tlf" / "tlf_index.csv", dtype=str)
    assert len(index) >= 12
    for row in index.itertuples():
        assert (published / "tlf" / row.file).is_file()
        assert (published / "tlf" / "ard" / f"{row.id}.csv").is_file()


R_COMPARISONS = """
d <- read.csv(DATA)
d$event <- 1 - d$CNSR
for (arm in c("Xanomeline Low Dose", "Xanomeline High Dose")) {
  p <- subset(d, TRT01A %in% c("Placebo", arm))
  p$g <- relevel(factor(p$TRT01A), "Placebo")
  m <- coxph(Surv(AVAL, event) ~ g, data = p, ties = "breslow")
  ci <- summary(m)$conf.int
  tag <- gsub(" ", "_", arm)
  emit(paste0(tag, ".hr"), c(ci[1, "exp(coef)"], ci[1, "lower .95"], ci[1, "upper .95"]))
  emit(paste0(tag, ".logrank_p"), pchisq(survdiff(Surv(AVAL, event) ~ g, data = p)$chisq, 1, lower.tail = FALSE))
}
"""


def test_pfs_hazard_ratios_equal_r_on_admirals_own_adam(published, rscript, tmp_path):  # noqa: F811
    """Double programming from outside: R's coxph and survdiff on pharmaverseadam's ADTTE and ADSL
    (admiral's derivation, not ours) give the hazard ratios and log-rank p of table 14.2.2.1."""
    adsl = reference("ADSL")
    adtte = reference("ADTTE")
    data = adtte[adtte["PARAMCD"] == "PFS"][["USUBJID", "AVAL", "CNSR"]].merge(
        adsl.loc[adsl["SAFFL"] == "Y", ["USUBJID", "TRT01A"]], on="USUBJID")
    r = run_r(rscript, tmp_path, R_COMPARISONS, data)
    ard = pd.read_csv(published / "tlf" / "ard" / "14.2.2.1.csv")
    for arm in ("Xanomeline Low Dose", "Xanomeline High Dose"):
        ours = ard[(ard["group_level"] == arm) & (ard["variable"] == "PFS")].set_index("stat_name")["stat"]
        tag = arm.replace(" ", "_")
        np.testing.assert_allclose(ours[["hr", "hr_ci_low", "hr_ci_high"]].astype(float), r[f"{tag}.hr"], rtol=1e-6)
        np.testing.assert_allclose(float(ours["logrank_p"]), r[f"{tag}.logrank_p"][0], rtol=1e-6)


def test_reviewers_guides_for_the_given_sdtm_and_the_derived_adam(published):
    """The SDTM came from outside, but the package submits it: its cSDRG explains the warnings its TS
    leaves (the study's validation_explanations.yaml), the ADRG the ADaM derived here."""
    from docx import Document

    files = {f["path"] for f in json.loads((published / "manifest.json").read_text(encoding="utf-8"))["files"]}
    assert {f"{STUDY_FOLDER}/tabulations/sdtm/csdrg.docx", f"{STUDY_FOLDER}/analysis/adam/datasets/adrg.docx"} <= files
    doc = Document(str(published / STUDY_FOLDER / "tabulations/sdtm/csdrg.docx"))
    rules = {t.rows[i].cells[0].text for t in doc.tables if t.rows[0].cells[0].text == "Rule" for i in range(1, len(t.rows))}
    assert {"SUB-FDA-006", "SUB-SDTM-013"} <= rules


def test_every_dataset_has_a_schema_valid_dataset_json_with_the_xpt_values(published):
    """Dataset-JSON 1.1 of the given SDTM and the derived ADaM: valid against CDISC's schema, OIDs of
    define.xml, the XPT's values read back (large datasets also as NDJSON, the same values)."""
    from test_dataset_json import assert_same_values, define_oids, validator  # noqa: PLC0415

    check = validator()
    folders = sorted({p.parent for p in (published / STUDY_FOLDER).rglob("define.xml")})
    assert len(folders) == 2
    for folder in folders:
        defined = define_oids(folder / "define.xml")
        for xpt in sorted(folder.glob("*.xpt")):
            doc = json.loads(xpt.with_suffix(".json").read_text(encoding="utf-8"))
            assert not [e.message for e in check.iter_errors(doc)][:3], xpt.name
            assert [c["itemOID"] for c in doc["columns"]] == defined[doc["name"]][1]
            for path in (xpt.with_suffix(".json"), xpt.with_suffix(".ndjson")):
                if path.exists():
                    assert_same_values(path, xpt)
