"""The XPT v5 writer, checked with two readers independent of it: pyreadstat (ReadStat) and pandas'
own XPORT reader."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from submit.dataset_io import sas_format
from submit.errors import DataCheckError
from submit.xpt import FDA_MAX_BYTES, Violation, XptDataset, XptVariable, check_xpt, write_xpt, write_xpt_split
from submit.xpt.formats import parse_format, temporal_kind
from submit.xpt.ibm import to_ibm

CREATED = dt.date(2024, 1, 2)
V = XptVariable


def read_pyreadstat(path: Path, dates: bool = False):
    return pyreadstat.read_xport(str(path), disable_datetime_conversion=not dates)


def read_pandas(path: Path) -> pd.DataFrame:
    return pd.read_sas(path, format="xport", encoding="ascii")


PANDAS_ZERO = 2.0**-260  # pandas reads IBM zero (all bytes 0) as 16**-65: pandas-dev/pandas#50670, open


def as_pandas_reads(values) -> np.ndarray:
    return np.where(np.asarray(values) == 0, PANDAS_ZERO, values)


def pandas_header(path: Path) -> tuple[list[dict], dict]:
    """NAMESTR fields and member header as pandas parses them."""
    reader = pd.read_sas(path, format="xport", iterator=True, encoding=None)
    try:
        return reader.fields, reader.member_info
    finally:
        reader.close()


# --- a lab-like dataset exercising every kind of value -------------------------------------------

NUMBERS = [1.0, -2.5, 0.1, 0.0, -0.000123, 123456789.125, 1e-70, -1e70, 7.2e75, np.nan]
SUBJECTS = ["S-02", "S-01", "S-02", "S-01", "", "S-03", "S-01", "S-03", "S-02", None]
SEQS = [2, 2, 1, 1, 1, 1, 3, 2, 3, 1]


def lab() -> tuple[pd.DataFrame, XptDataset]:
    df = pd.DataFrame({
        # columns deliberately not in the metadata's order
        "LBORRES": pd.Series(["5.1", "<0.5", "", None, "POSITIVE", "12", "3", "4", "ab", "x" * 200], dtype="str"),
        "USUBJID": pd.Series(SUBJECTS, dtype=object),
        "LBSEQ": pd.Series(SEQS, dtype="Int64"),
        "LBSTRESN": NUMBERS,
        "LBDT": pd.to_datetime(["2024-01-05", "1960-01-01", "1959-12-31", None, "2000-02-29",
                                "2024-01-05 23:59", "1900-01-01", "2099-12-31", "1960-01-02", "1970-01-01"],
                               format="ISO8601"),
        "LBDTM": [0.0, 86400.5, -1.0, np.nan, 1.7e9, 2e9, 3, 4, 5, 6],  # already SAS datetimes
        "LBTM": pd.to_timedelta(["08:30:00", "00:00:00", "23:59:59", None, "12:00:00", "1:00:00",
                                 "2:00:00", "3:00:00", "4:00:00", "5:00:00"]),
        "LBCAT": pd.Categorical(["CHEMISTRY", "HEMATOLOGY"] * 5),
    })
    meta = XptDataset("LB", "Laboratory Test Results", (
        V("USUBJID", "Unique Subject Identifier", "char", 20),
        V("LBSEQ", "Sequence Number", "num", format="8."),
        V("LBCAT", "Category for Lab Test", "char", format="$CHAR20."),
        V("LBORRES", "Result or Finding in Original Units", "char"),
        V("LBSTRESN", "Numeric Result/Finding in Standard Units", "num", format="BEST12.", informat="BEST32."),
        V("LBDT", "Date of Specimen Collection", "num", format="DATE9."),
        V("LBDTM", "Datetime of Specimen Collection", "num", format="E8601DT19."),
        V("LBTM", "Time of Specimen Collection", "num", format="TIME8."),
    ), keys=("USUBJID", "LBSEQ"))
    return df, meta


def expected_order() -> list[int]:
    """Input positions in key order: blank and missing subjects first (SAS's order), stable."""
    subjects = ["" if s is None else s for s in SUBJECTS]
    return sorted(range(len(subjects)), key=lambda i: (subjects[i], SEQS[i]))


@pytest.fixture()
def lab_file(tmp_path) -> Path:
    df, meta = lab()
    assert check_xpt(df, meta) == []
    return write_xpt(df, meta, tmp_path / "lb.xpt", CREATED)


def test_round_trip_values_with_pyreadstat(lab_file):
    df, _ = lab()
    got, meta = read_pyreadstat(lab_file)
    order = expected_order()
    assert list(got.columns) == ["USUBJID", "LBSEQ", "LBCAT", "LBORRES", "LBSTRESN", "LBDT", "LBDTM", "LBTM"]
    assert got["USUBJID"].tolist() == [("" if SUBJECTS[i] is None else SUBJECTS[i]) for i in order]
    assert got["LBSEQ"].tolist() == [float(SEQS[i]) for i in order]
    assert got["LBORRES"].tolist() == [df["LBORRES"].fillna("")[i] for i in order]
    assert got["LBCAT"].tolist() == [str(df["LBCAT"][i]) for i in order]
    np.testing.assert_array_equal(got["LBSTRESN"].to_numpy(), np.array(NUMBERS)[order])  # exact, NaN too
    # dates -> days since 1960 (date part of a datetime), times -> seconds since midnight
    days = [23380.0, 0.0, -1.0, np.nan, 14669.0, 23380.0, -21914.0, 51134.0, 1.0, 3653.0]
    np.testing.assert_array_equal(got["LBDT"].to_numpy(), np.array(days)[order])
    np.testing.assert_array_equal(got["LBDTM"].to_numpy(), df["LBDTM"].to_numpy()[order])
    seconds = [30600.0, 0.0, 86399.0, np.nan, 43200.0, 3600.0, 7200.0, 10800.0, 14400.0, 18000.0]
    np.testing.assert_array_equal(got["LBTM"].to_numpy(), np.array(seconds)[order])


def test_round_trip_metadata_with_pyreadstat(lab_file):
    _, meta = lab()
    _, info = read_pyreadstat(lab_file)
    assert info.table_name == "LB"
    assert info.file_label == "Laboratory Test Results"
    assert info.column_names_to_labels == {v.name: v.label for v in meta.variables}
    assert info.readstat_variable_types == {"USUBJID": "string", "LBSEQ": "double", "LBCAT": "string",
                                            "LBORRES": "string", "LBSTRESN": "double", "LBDT": "double",
                                            "LBDTM": "double", "LBTM": "double"}
    # given lengths kept, None -> longest value in bytes, numerics 8
    assert info.variable_storage_width == {"USUBJID": 20, "LBSEQ": 8, "LBCAT": 10, "LBORRES": 200,
                                           "LBSTRESN": 8, "LBDT": 8, "LBDTM": 8, "LBTM": 8}
    # pyreadstat before 1.3.8 drops the period of formats without decimals ("DATE9"), later ones keep it
    formats = {name: fmt and sas_format(fmt) for name, fmt in info.original_variable_types.items()}
    assert formats == {"USUBJID": None, "LBSEQ": "8.", "LBCAT": "$CHAR20.", "LBORRES": None,
                       "LBSTRESN": "BEST12.", "LBDT": "DATE9.", "LBDTM": "E8601DT19.", "LBTM": "TIME8."}
    dated, _ = read_pyreadstat(lab_file, dates=True)  # pyreadstat reads DATE9. values as dates
    assert dated["LBDT"].iloc[expected_order().index(0)] == dt.date(2024, 1, 5)


def test_round_trip_with_pandas(lab_file):
    df, _ = lab()
    got = read_pandas(lab_file)
    order = expected_order()
    assert list(got.columns) == ["USUBJID", "LBSEQ", "LBCAT", "LBORRES", "LBSTRESN", "LBDT", "LBDTM", "LBTM"]
    assert len(got) == len(df)
    assert got["USUBJID"].tolist() == [("" if SUBJECTS[i] is None else SUBJECTS[i]) for i in order]
    assert got["LBORRES"].tolist() == [df["LBORRES"].fillna("")[i] for i in order]
    np.testing.assert_array_equal(got["LBSTRESN"].to_numpy(), as_pandas_reads(np.array(NUMBERS)[order]))
    np.testing.assert_array_equal(got["LBDTM"].to_numpy(), as_pandas_reads(df["LBDTM"].to_numpy()[order]))
    fields, member = pandas_header(lab_file)
    assert member["set_name"] == "LB" and member["label"] == "Laboratory Test Results"
    assert member["created"] == member["modified"] == dt.datetime(2024, 1, 2)
    by_name = {f["name"].decode(): f for f in fields}
    assert [f["name"].decode() for f in fields] == list(got.columns)
    assert (by_name["LBSTRESN"]["nform"], by_name["LBSTRESN"]["nfl"]) == (b"BEST", 12)
    assert (by_name["LBSTRESN"]["niform"], by_name["LBSTRESN"]["nifl"]) == (b"BEST", 32)
    assert (by_name["LBCAT"]["nform"], by_name["LBCAT"]["nfl"], by_name["LBCAT"]["ntype"]) == (b"$CHAR", 20, "char")
    assert by_name["USUBJID"]["field_length"] == 20 and by_name["LBORRES"]["field_length"] == 200


def test_decimals_of_a_w_d_format(tmp_path):
    df = pd.DataFrame({"AVAL": [1.25]})
    meta = XptDataset("ADX", "", (V("AVAL", "Analysis Value", "num", format="8.2"),))
    path = write_xpt(df, meta, tmp_path / "adx.xpt", CREATED)
    assert read_pyreadstat(path)[1].original_variable_types == {"AVAL": "8.2"}
    fields, _ = pandas_header(path)
    assert (fields[0]["nform"], fields[0]["nfl"], fields[0]["num_decimals"]) == (b"", 8, 2)


def test_same_bytes_as_readstat_apart_from_timestamps(tmp_path):
    """ReadStat's writer (pyreadstat.write_xport) is an independent implementation of TS-140: with
    lengths it would choose too, both files agree byte for byte once its clock time is replaced."""
    df = pd.DataFrame({"USUBJID": ["S-01", "S-02", "S-3"], "AVAL": [1.5, np.nan, -1e-70], "ADT": [0.0, 23380.0, np.nan]})
    meta = XptDataset("ADX", "Analysis X", (V("USUBJID", "Subject", "char"), V("AVAL", "Value", "num", format="8.2"),
                                            V("ADT", "Date", "num", format="DATE9.")))
    ours = write_xpt(df, meta, tmp_path / "ours.xpt", CREATED).read_bytes()
    pyreadstat.write_xport(df, str(tmp_path / "theirs.xpt"), file_label="Analysis X", table_name="ADX",
                           column_labels=["Subject", "Value", "Date"], file_format_version=5,
                           variable_format={"AVAL": "8.2", "ADT": "DATE9."})
    theirs = re.sub(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d", b"02JAN24:00:00:00", (tmp_path / "theirs.xpt").read_bytes())
    assert ours == theirs


@pytest.mark.parametrize("text, parsed, kind", [
    ("DATE9.", ("DATE", 9, 0), "date"), ("e8601da.", ("E8601DA", 0, 0), "date"),
    ("YYMMDD10.", ("YYMMDD", 10, 0), "date"), ("E8601DT19.", ("E8601DT", 19, 0), "datetime"),
    ("DATETIME20.", ("DATETIME", 20, 0), "datetime"), ("TIME8.", ("TIME", 8, 0), "time"),
    ("8.2", ("", 8, 2), None), ("BEST12.", ("BEST", 12, 0), None), ("$CHAR20.", ("$CHAR", 20, 0), None),
    ("$20.", ("$", 20, 0), None), ("DATE9", None, None), ("$.", None, None), (".", None, None),
])
def test_parse_format(text, parsed, kind):
    fmt = parse_format(text)
    assert (None if fmt is None else (fmt.name, fmt.width, fmt.decimals)) == parsed
    assert temporal_kind(fmt) == kind


# --- IBM floating point ---------------------------------------------------------------------------

def test_ibm_encoding_of_known_values():
    values = np.array([1.0, -118.625, 0.1, 0.0, -0.0, np.nan, 16.0, 1e-300])
    got = [bytes(b).hex() for b in to_ibm(values)]
    assert got == ["4110000000000000", "c276a00000000000", "401999999999999a", "0000000000000000",
                   "0000000000000000", "2e00000000000000", "4210000000000000", "0000000000000000"]


def test_random_doubles_over_ibm_range_round_trip_exactly(tmp_path):
    rng = np.random.default_rng(7)
    values = rng.choice([-1.0, 1.0], 20_000) * 10.0 ** rng.uniform(-78, 75, 20_000) * rng.uniform(1, 7, 20_000)
    values = np.concatenate([values, [2.0**-260, 2.0**252 * (1 - 2.0**-53), 5e-324, 2.0**-261]])
    meta = XptDataset("NUMS", "", (V("X", "x", "num"),))
    path = write_xpt(pd.DataFrame({"X": values}), meta, tmp_path / "nums.xpt", CREATED)
    expected = np.where(np.abs(values) < 2.0**-260, 0.0, values)  # below IBM's range: written as 0
    np.testing.assert_array_equal(read_pyreadstat(path)[0]["X"].to_numpy(), expected)
    np.testing.assert_array_equal(read_pandas(path)["X"].to_numpy(), as_pandas_reads(expected))


# --- reproducibility ------------------------------------------------------------------------------

def test_same_inputs_and_created_give_same_bytes(tmp_path):
    df, meta = lab()
    a = write_xpt(df, meta, tmp_path / "a.xpt", CREATED).read_bytes()
    b = write_xpt(df.copy(), meta, tmp_path / "b.xpt", dt.datetime(2024, 1, 2, 0, 0, 0)).read_bytes()
    assert a == b
    assert b"02JAN24:00:00:00" in a


def test_other_created_gives_other_bytes(tmp_path):
    df, meta = lab()
    a = write_xpt(df, meta, tmp_path / "a.xpt", CREATED).read_bytes()
    b = write_xpt(df, meta, tmp_path / "b.xpt", dt.datetime(2024, 1, 2, 13, 45, 6)).read_bytes()
    assert a != b and len(a) == len(b)
    assert b"02JAN24:13:45:06" in b and b"02JAN24:13:45:06" not in a


def test_text_dtypes_give_the_same_file(tmp_path):
    meta = XptDataset("DM", "", (V("ARM", "Arm", "char"), V("N", "n", "num")))
    values = ["B", None, "A  ", "A"]
    frames = [pd.DataFrame({"ARM": pd.Series(values, dtype=t), "N": [1, 2, 3, 4]})
              for t in ("str", object, "string", "category")]
    files = [write_xpt(f, meta, tmp_path / f"dm{i}.xpt", CREATED).read_bytes() for i, f in enumerate(frames)]
    assert len(set(files)) == 1
    assert read_pyreadstat(tmp_path / "dm0.xpt")[0]["ARM"].tolist() == ["B", "", "A", "A"]


def test_python_dates_equal_sas_numbers(tmp_path):
    meta = XptDataset("DT", "", (V("D", "date", "num", format="E8601DA."),))
    as_dates = pd.DataFrame({"D": pd.Series([dt.date(1960, 1, 1), dt.date(2024, 1, 5), None], dtype=object)})
    as_numbers = pd.DataFrame({"D": [0.0, 23380.0, np.nan]})
    a = write_xpt(as_dates, meta, tmp_path / "a.xpt", CREATED).read_bytes()
    b = write_xpt(as_numbers, meta, tmp_path / "b.xpt", CREATED).read_bytes()
    assert a == b


def test_sort_is_stable_with_missing_keys_first(tmp_path):
    df = pd.DataFrame({"K": [2.0, np.nan, 1.0, 2.0, np.nan, 1.0], "ID": ["a", "b", "c", "d", "e", "f"]})
    meta = XptDataset("S", "", (V("ID", "id", "char"), V("K", "key", "num")), keys=("K",))
    got = read_pyreadstat(write_xpt(df, meta, tmp_path / "s.xpt", CREATED))[0]
    assert got["ID"].tolist() == ["b", "e", "c", "f", "a", "d"]


# --- violations -----------------------------------------------------------------------------------

def one(df: dict, variables: tuple[XptVariable, ...], name="AE", label="Adverse Events", keys=()):
    return check_xpt(pd.DataFrame(df), XptDataset(name, label, variables, keys))


def codes(violations: list[Violation]) -> list[tuple]:
    return [(v.variable, v.code, v.row) for v in violations]


@pytest.mark.parametrize("name", ["ADVERSE_E", "ae", "1AE", "_AE", "AE-X", ""])
def test_dataset_name(name):
    got = one({"A": [1]}, (V("A", "a", "num"),), name=name)
    assert codes(got) == [(None, "name", None)]
    assert got[0].dataset == name


@pytest.mark.parametrize("name", ["AETERMXXX", "aeterm", "2A", "_A", "A B", "É"])
def test_variable_name(name):
    assert codes(one({name: [1]}, (V(name, "a", "num"),))) == [(name, "name", None)]


def test_upper_case_eight_character_names_pass():
    assert one({"A_234567": [1], "Z9": [2]}, (V("A_234567", "a", "num"), V("Z9", "z", "num")), name="ADSL_1") == []


@pytest.mark.parametrize("label", ["x" * 41, "Température", "tab\there"])
def test_variable_label(label):
    assert codes(one({"A": [1]}, (V("A", label, "num"),))) == [("A", "label", None)]


@pytest.mark.parametrize("label", ["x" * 41, "Événements"])
def test_dataset_label(label):
    assert codes(one({"A": [1]}, (V("A", "a", "num"),), label=label)) == [(None, "label", None)]


def test_forty_character_labels_pass():
    assert one({"A": [1]}, (V("A", "x" * 40, "num"),), label="y" * 40) == []


def test_character_value_over_200_bytes():
    got = one({"A": ["x" * 200, "y" * 201]}, (V("A", "a", "char"),))
    assert codes(got) == [("A", "length", 2)]
    assert got[0].value == "y" * 201 and "201 bytes" in got[0].message


def test_value_longer_than_given_length():
    got = one({"A": ["abc", "abcd", "ab  "]}, (V("A", "a", "char", 3),))  # trailing blanks don't count
    assert codes(got) == [("A", "length", 2)]
    assert got[0].value == "abcd"


def test_non_ascii_counts_bytes_and_is_a_violation():
    got = one({"A": ["ab", "éa", "éé"]}, (V("A", "a", "char", 3),))  # é is 2 bytes in UTF-8
    assert sorted(codes(got)) == [("A", "ascii", 2), ("A", "ascii", 3), ("A", "length", 3)]
    length = next(v for v in got if v.code == "length")
    assert "4 bytes" in length.message and length.value == "éé"


def test_control_characters():
    df = pd.DataFrame({"A": ["ok", "line\nbreak", "tab\t", "nul\x00", "del\x7f"]}, index=[50, 40, 30, 20, 10])
    got = check_xpt(df, XptDataset("AE", "", (V("A", "a", "char"),)))  # rows are positions, not labels
    assert codes(got) == [("A", "control", 2), ("A", "control", 3), ("A", "control", 4), ("A", "control", 5)]
    assert got[0].value == "line\nbreak"


def test_infinite_and_too_large_numbers():
    got = one({"X": [1.0, np.inf, np.nan, -np.inf, 1e76, -2.0**252]}, (V("X", "x", "num"),))
    assert codes(got) == [("X", "range", 2), ("X", "range", 4), ("X", "range", 5), ("X", "range", 6)]
    assert got[0].value == np.inf


def test_duplicate_variable_names():
    got = one({"A": [1]}, (V("A", "a", "num"), V("A", "again", "num")))
    assert codes(got) == [("A", "duplicate", None)]


def test_duplicate_columns():
    df = pd.DataFrame([[1, 2]], columns=["A", "A"])
    assert codes(check_xpt(df, XptDataset("X", "", (V("A", "a", "num"),)))) == [("A", "duplicate", None)]


def test_columns_and_variables_must_match():
    got = one({"A": [1], "EXTRA": [2]}, (V("A", "a", "num"), V("MISSING", "m", "num")))
    assert codes(got) == [("EXTRA", "column", None), ("MISSING", "column", None)]


def test_keys_must_be_variables():
    assert codes(one({"A": [1]}, (V("A", "a", "num"),), keys=("A", "NOPE"))) == [("NOPE", "key", None)]


@pytest.mark.parametrize("values, var", [
    (["1", "2"], V("A", "a", "num")),
    ([1.5, 2.0], V("A", "a", "char")),
    ([True, False], V("A", "a", "num")),
    (pd.to_datetime(["2024-01-01", "2024-01-02"]), V("A", "a", "num")),  # no date format: days or seconds?
    (pd.to_datetime(["2024-01-01", "2024-01-02"]).tz_localize("UTC"), V("A", "a", "num", format="DATE9.")),
    (pd.to_timedelta(["1:00:00", "2:00:00"]), V("A", "a", "num", format="DATE9.")),
    ([2**53 + 1, 1], V("A", "a", "num")),
    ([1, 2], V("A", "a", "text")),
])
def test_types(values, var):
    assert codes(one({"A": values}, (var,))) == [("A", "type", None)]


@pytest.mark.parametrize("var", [
    V("A", "a", "num", format="DATE9"),  # no period
    V("A", "a", "num", format="$CHAR8."),
    V("A", "a", "char", format="DATE9."),
    V("A", "a", "num", format="LONGNAMES1."),
    V("A", "a", "num", informat="??"),
])
def test_formats(var):
    assert codes(one({"A": [1] if var.type == "num" else ["x"]}, (var,))) == [("A", "format", None)]


@pytest.mark.parametrize("var", [V("A", "a", "num", 4), V("A", "a", "char", 201), V("A", "a", "char", 0)])
def test_lengths(var):
    assert codes(one({"A": [1] if var.type == "num" else ["x"]}, (var,))) == [("A", "length", None)]


def test_all_violations_reported_together_and_nothing_written(tmp_path):
    df = pd.DataFrame({"aeterm": ["HEADACHE"], "AESEV": ["MILD\t"], "AEDUR": [np.inf], "AEDECOD": ["Naus\u00e9e"]})
    meta = XptDataset("AE", "Adverse Events with a label far over forty characters", (
        V("aeterm", "Reported Term", "char"),
        V("AESEV", "Severity", "char", 3),
        V("AEDUR", "Duration", "num"),
        V("AEDECOD", "Dictionary-Derived Term", "char"),
    ))
    path = tmp_path / "ae.xpt"
    with pytest.raises(DataCheckError) as raised:
        write_xpt(df, meta, path, CREATED)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    expected = [(None, "label", None), ("aeterm", "name", None), ("AESEV", "control", 1),
                ("AESEV", "length", 1), ("AEDUR", "range", 1), ("AEDECOD", "ascii", 1)]
    assert codes(check_xpt(df, meta)) == expected
    problems = raised.value.problems
    assert [(p.column, p.row) for p in problems] == [(c, r) for c, _, r in expected]
    text = str(raised.value)
    assert "6 XPT v5 violation" in text and "row 1, column AEDUR" in text and "'MILD\\t'" in text
    assert str(check_xpt(df, meta)[-1]) == "AE.AEDECOD row 1: is not ASCII (value 'Nausée')"


# --- size limit and split -------------------------------------------------------------------------

def subjects_frame(rows_per_subject=(3, 1, 4, 2, 5)) -> tuple[pd.DataFrame, XptDataset]:
    ids = [f"S{i}" for i, k in enumerate(rows_per_subject) for _ in range(k)]
    results = ["x" * (64 if i == "S2" else 10) for i in ids]  # only S2 makes LBORRES 64 bytes long
    df = pd.DataFrame({"USUBJID": ids[::-1], "LBSEQ": np.arange(len(ids), 0, -1.0), "LBORRES": results[::-1]})
    meta = XptDataset("LB", "Lab", (V("USUBJID", "Subject", "char", 8), V("LBSEQ", "Seq", "num"),
                                    V("LBORRES", "Result", "char")), keys=("USUBJID", "LBSEQ"))
    return df, meta  # 80-byte observations: one record each


def test_default_limit_is_fda_5_gb():
    assert FDA_MAX_BYTES == 5_000_000_000


def test_file_over_the_limit_is_refused_before_writing(tmp_path):
    df, meta = subjects_frame()
    path = tmp_path / "lb.xpt"
    size = len(write_xpt(df, meta, path, CREATED).read_bytes())
    path.unlink()
    assert write_xpt(df, meta, path, CREATED, max_bytes=size).stat().st_size == size  # at the limit: fine
    path.unlink()
    with pytest.raises(DataCheckError, match="split"):
        write_xpt(df, meta, path, CREATED, max_bytes=size - 1)
    assert not path.exists()


def test_split_by_subject_under_the_limit(tmp_path):
    df, meta = subjects_frame()
    header = len(write_xpt(df.iloc[:0], meta, tmp_path / "empty.xpt", CREATED).read_bytes())
    limit = header + 6 * 80  # room for 6 observations a file
    (tmp_path / "split").mkdir()
    paths = write_xpt_split(df, meta, tmp_path / "split", CREATED, max_bytes=limit)
    assert [p.name for p in paths] == ["lb1.xpt", "lb2.xpt", "lb3.xpt"]
    parts = [read_pyreadstat(p) for p in paths]
    assert all(p.stat().st_size <= limit for p in paths)
    # whole subjects per file, as many as fit: S0+S1 (3+1 rows; S2 would not fit), S2+S3 (4+2), S4 (5)
    assert [sorted(set(d["USUBJID"])) for d, _ in parts] == [["S0", "S1"], ["S2", "S3"], ["S4"]]
    whole = pd.concat([d for d, _ in parts], ignore_index=True)
    full, _ = read_pyreadstat(write_xpt(df, meta, tmp_path / "lb.xpt", CREATED))
    pd.testing.assert_frame_equal(whole, full)
    for _, info in parts:  # lengths from the whole dataset in every part; the dataset keeps its name
        assert info.table_name == "LB" and info.variable_storage_width == {"USUBJID": 8, "LBSEQ": 8, "LBORRES": 64}


def test_split_by_an_unknown_variable_or_a_bad_created_is_refused(tmp_path):
    df, meta = subjects_frame()
    with pytest.raises(ValueError, match="NOPE"):
        write_xpt_split(df, meta, tmp_path, CREATED, max_bytes=2000, by=("NOPE",))
    with pytest.raises(TypeError, match="created"):
        write_xpt(df, meta, tmp_path / "lb.xpt", "2024-01-02")
    assert list(tmp_path.iterdir()) == []


def test_split_writes_one_file_when_it_fits(tmp_path):
    df, meta = subjects_frame()
    assert [p.name for p in write_xpt_split(df, meta, tmp_path, CREATED)] == ["lb.xpt"]


def test_split_refuses_a_subject_larger_than_the_limit(tmp_path):
    df, meta = subjects_frame()
    header = len(write_xpt(df.iloc[:0], meta, tmp_path / "empty.xpt", CREATED).read_bytes())
    with pytest.raises(DataCheckError, match="do not fit"):
        write_xpt_split(df, meta, tmp_path, CREATED, max_bytes=header + 4 * 80)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.xpt"]
    paths = write_xpt_split(df, meta, tmp_path, CREATED, max_bytes=header + 4 * 80, by=())  # rows anywhere
    assert len(paths) == 4


def test_check_violations_come_before_the_split(tmp_path):
    df, meta = subjects_frame()
    df.loc[0, "LBORRES"] = "é"
    with pytest.raises(DataCheckError, match="violation"):
        write_xpt_split(df, meta, tmp_path, CREATED, max_bytes=1000)
    assert list(tmp_path.iterdir()) == []
