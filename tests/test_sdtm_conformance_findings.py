"""One regression test per problem an independent CDISC CORE run (SDTMIG 3.4 rules) found in the
default package (issue 16), each failing on the package built before the fix. The expected values
come from the XPT files read back with pyreadstat and the CORE report (counts, subject, dates), not
from the mapping code."""

from __future__ import annotations

import re

import pandas as pd
import pyreadstat
import pytest

from conftest import SDTM_DIR

FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def xpt(default_sdtm):
    _, root = default_sdtm
    folder = root / SDTM_DIR

    def read(name: str) -> pd.DataFrame:
        return pyreadstat.read_xport(str(folder / f"{name}.xpt"))[0]
    read.folder = folder
    return read


def test_cg0034_every_visit_with_data_is_in_sv(xpt):
    """CORE-000168 / CG0034: PC had VISITNUM 110 (28 records' subjects) and 117 (6) with no SV record."""
    sv = xpt("sv")
    visits = set(zip(sv.USUBJID, sv.VISITNUM))
    for path in sorted(xpt.folder.glob("*.xpt")):
        df = xpt(path.stem)
        if "VISITNUM" in df and "USUBJID" in df and path.stem != "sv":
            with_visit = df[df.VISITNUM.notna()]
            used = set(zip(with_visit.USUBJID, with_visit.VISITNUM))
            assert not used - visits, (path.stem, sorted(used - visits)[:5])
    # the PK-only visits of CORE's report: planned visits (TV) that occurred
    pk_only = sv[sv.VISITNUM.isin([110, 117])]
    assert pk_only.groupby("VISITNUM").size().to_dict() == {110: 28, 117: 6}
    assert set(pk_only.SVPRESP) == {"Y"} and set(pk_only.SVOCCUR) == {"Y"}
    assert pk_only.SVSTDTC.str.match(r"^\d{4}-\d{2}-\d{2}$").all()


def test_fb3202_mh_has_study_days(xpt):
    """CORE-000328 / FDA FB3202: MH had MHSTDTC but no MHSTDY."""
    mh, dm = xpt("mh"), xpt("dm")
    assert "MHSTDY" in mh and "MHENDTC" not in mh  # ongoing diagnoses: no end date, so no MHENDY
    rf = mh.USUBJID.map(dict(zip(dm.USUBJID, dm.RFSTDTC.str.slice(0, 10))))
    full = mh.MHSTDTC.str.len() == 10
    days = (pd.to_datetime(mh.MHSTDTC[full]) - pd.to_datetime(rf[full])).dt.days
    expected = days.where(days < 0, days + 1)  # no day 0
    assert (mh.MHSTDY[full] == expected).all()
    assert (mh.MHSTDY[full] < 0).all()  # diagnosed before the first dose
    assert mh.MHSTDY[~full].isna().all() and (~full).any()  # partial dates: no study day


def test_cg0024_tu_has_no_link_id_without_tr(xpt):
    """CORE-000571 / CG0024: TU carried TULNKID though there is no TR to link to."""
    assert "TULNKID" not in xpt("tu")
    assert not (xpt.folder / "tr.xpt").exists()


def test_fb3407_no_subject_date_after_rfpendtc(xpt):
    """CORE-000952 / FDA FB3407: 103-003 CMENDTC 2012-09-01 was after RFPENDTC 2012-08-26."""
    dm = xpt("dm")
    end = dict(zip(dm.USUBJID, dm.RFPENDTC))
    latest: dict[str, str] = {}
    for path in sorted(xpt.folder.glob("*.xpt")):
        df = xpt(path.stem)
        if "USUBJID" not in df or path.stem in ("dm", "se"):  # SE ends at RFPENDTC by construction
            continue
        for v in (c for c in df.columns if c.endswith("DTC") and df[c].dtype == object):
            dates = df[v].str.slice(0, 10).where(df[v].str.match(FULL_DATE))
            for subject, date in dates.groupby(df.USUBJID).max().dropna().items():
                latest[subject] = max(latest.get(subject, ""), date)
    after = {s: (d, end[s]) for s, d in latest.items() if d > end[s]}
    assert not after, after
    assert end["MT103-206-103-003"] == "2012-09-01"


def test_fb3901_no_normal_range_with_low_equal_to_high(xpt):
    """FDA FB3901/FB3902: 782 BLASTLE records had LBSTNRLO = LBSTNRHI = 0."""
    lb = xpt("lb")
    same = lb.LBSTNRLO.notna() & (lb.LBSTNRLO == lb.LBSTNRHI)
    assert not same.any(), lb[same].LBTESTCD.value_counts()
    blasts = lb[lb.LBTESTCD == "BLASTLE"]
    assert len(blasts) == 782 and blasts.LBSTNRHI.isna().all() and (blasts.LBNRIND == "").all()


def test_fb4202_not_done_has_a_reason(xpt):
    """FDA FB4202: the marrow assessment NOT DONE (BLASTCE, CELLULAR) had no LBREASND."""
    lb = xpt("lb")
    not_done = lb[lb.LBSTAT == "NOT DONE"]
    assert sorted(not_done.LBTESTCD) == ["BLASTCE", "CELLULAR"]
    assert set(not_done.LBREASND) == {"Subject refused"}
    assert (lb.LBREASND[lb.LBSTAT != "NOT DONE"] == "").all()
