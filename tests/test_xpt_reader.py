"""submit.xpt.reader reads what pyreadstat (ReadStat) reads, value for value and attribute for
attribute, on files of the writer and on bytes the writer never produces (56-bit IBM fractions as
SAS writes them, special missing values), and hands what it does not read to pyreadstat."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from submit.dataset_io import read_dataset
from submit.xpt import XptDataset, XptVariable, write_xpt
from submit.xpt.reader import Unsupported, XptFile

CREATED = dt.date(2024, 1, 2)
V = XptVariable


def assert_reads_as_pyreadstat(path):
    expected, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    xpt = XptFile(path)
    got = xpt.frame()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    for name in expected.columns:  # bit for bit, the sign of zero included
        if meta.readstat_variable_types[name] != "string":
            a, b = got[name].to_numpy(), expected[name].to_numpy()
            assert np.array_equal(np.isnan(a), np.isnan(b))
            assert np.array_equal(a[~np.isnan(a)].view("u8"), b[~np.isnan(b)].view("u8")), name
    assert (xpt.name, xpt.label, xpt.rows) == (meta.table_name, meta.file_label or "", meta.number_rows)
    assert [c.name for c in xpt.columns] == meta.column_names
    for c in xpt.columns:
        assert c.label == (meta.column_names_to_labels[c.name] or "")
        assert c.format == (meta.original_variable_types[c.name] or "")
        assert c.length == meta.variable_storage_width[c.name]
        assert (c.type == "char") == (meta.readstat_variable_types[c.name] == "string")


@pytest.fixture
def mixed(tmp_path):
    rng = np.random.default_rng(7)
    n = 300
    df = pd.DataFrame({"A": rng.normal(size=n) * 10.0 ** rng.integers(-70, 70, n),
                       "B": ["x" * (i % 5) for i in range(n)], "C": rng.integers(0, 100, n).astype(float),
                       "D": [""] * n})
    df.loc[3, "A"], df.loc[4, "A"], df.loc[5, "A"] = np.nan, 0.0, -0.0
    meta = XptDataset("T", "A label", (V("A", "a", "num", format="8.2"), V("B", "", "char", 7, format="$CHAR7."),
                                       V("C", "c", "num", format="BEST."), V("D", "d", "char", 3, format="$3.")))
    path = tmp_path / "t.xpt"
    write_xpt(df, meta, path, CREATED)
    return path, rng


def test_files_of_the_writer(mixed):
    assert_reads_as_pyreadstat(mixed[0])


def test_sas_fractions_and_special_missing_values(mixed):
    path, rng = mixed
    raw = bytearray(path.read_bytes())
    start, width = raw.index(b"HEADER RECORD*******OBS") + 80, 8 + 7 + 8 + 3
    for row in range(10, 100):  # 56 significant bits, as SAS writes: ReadStat truncates them to 53
        cell = bytearray(rng.integers(0, 256, 8, dtype=np.uint8).tobytes())
        cell[1] |= 0x10 if row % 2 else 0x80
        raw[start + row * width:start + row * width + 8] = cell
    for row, first in zip(range(100, 130), b".ABZ_" * 6):
        raw[start + row * width + 15:start + row * width + 23] = bytes([first]) + b"\0" * 7
    path.write_bytes(bytes(raw))
    assert_reads_as_pyreadstat(path)
    assert XptFile(path).column("C")[100:130].isna().all()


def test_trailing_blank_rows_are_dropped_as_readstat_drops_them(tmp_path):
    path = tmp_path / "u.xpt"
    write_xpt(pd.DataFrame({"B": ["a", "", "b", "", ""]}), XptDataset("U", "", (V("B", "", "char", 3),)), path,
              CREATED)
    assert_reads_as_pyreadstat(path)
    assert XptFile(path).frame()["B"].tolist() == ["a", "", "b"]


def test_only_the_columns_asked_for(mixed):
    frame = XptFile(mixed[0]).frame(["C"])
    assert list(frame.columns) == ["C"] and len(frame) == 300


def test_text_that_is_not_utf8_goes_to_pyreadstat(tmp_path):
    path = tmp_path / "w.xpt"
    write_xpt(pd.DataFrame({"B": ["cafe"]}), XptDataset("W", "", (V("B", "", "char", 4),)), path, CREATED)
    path.write_bytes(path.read_bytes().replace(b"cafe", b"caf\xe9"))  # cp1252 e-acute
    with pytest.raises(Unsupported):
        XptFile(path).frame()
    df, meta = read_dataset(path, as_text=True)
    assert df["B"].tolist() == ["café"] and meta.encoding == "cp1252"


def test_dataset_folder_reads_each_dataset_when_first_asked(tmp_path):
    # The build's last stages read the XPTs through DatasetFolder once its frames are freed.
    from submit.dataset_io import DatasetFolder  # noqa: PLC0415

    meta = XptDataset("DM", "", (V("USUBJID", "", "char", 4), V("AGE", "", "num")))
    write_xpt(pd.DataFrame({"USUBJID": ["S-01", "S-02"], "AGE": [61.0, 7.5]}), meta, tmp_path / "dm.xpt", CREATED)
    write_xpt(pd.DataFrame({"USUBJID": ["S-01"], "AGE": [1.0]}), XptDataset("AE", "", meta.variables),
              tmp_path / "ae.xpt", CREATED)
    folder = DatasetFolder(tmp_path, ["DM", "AE"])
    (tmp_path / "ae.xpt").unlink()  # nothing read yet: DM still reads, AE fails only when asked for
    assert list(folder) == ["DM", "AE"] and len(folder) == 2 and "AE" in folder and "LB" not in folder
    assert folder["DM"]["USUBJID"].tolist() == ["S-01", "S-02"] and folder["DM"]["AGE"].tolist() == [61.0, 7.5]
    assert folder.get("LB") is None
    with pytest.raises(Exception):
        folder["AE"]
