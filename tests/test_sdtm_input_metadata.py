"""An SDTM package taken as given: ASCII transliteration of typographic text, SAS attributes in
Parquet field metadata, and the SDTM spec derived from the package's own attributes."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from submit.dataset_io import read_dataset
from submit.sdtm.ascii_text import to_ascii, transliterate
from submit.sdtm.spec_from_input import spec_from_input


def test_typographic_characters_have_ascii_forms():
    assert to_ascii("Alzheimer\u2019s \u201cmild\u201d \u2013 5\u00a0mg, caf\u00e9, na\u00efve") == \
        "Alzheimer's \"mild\" - 5 mg, cafe, naive"
    assert to_ascii("\u4e2d\u6587") is None  # no ASCII form: left for the XPT writer to refuse


def test_transliteration_lists_every_changed_value():
    df = pd.DataFrame({"TSVAL": ["Alzheimer\u2019s", "plain", "\u4e2d", "Alzheimer\u2019s"], "N": [1, 2, 3, 4]})
    out, changes = transliterate(df, "ts.parquet")
    assert out["TSVAL"].tolist() == ["Alzheimer's", "plain", "\u4e2d", "Alzheimer's"]
    assert changes.to_dict("list") == {"file": ["ts.parquet"] * 2, "row": [1, 4], "variable": ["TSVAL"] * 2,
                                       "before": ["Alzheimer\u2019s"] * 2, "after": ["Alzheimer's"] * 2}
    assert df["TSVAL"][0] == "Alzheimer\u2019s"  # the input frame is not changed


def test_parquet_field_metadata_gives_labels_formats_lengths(tmp_path):
    table = pa.table({"USUBJID": ["A"], "TRTSDT": [0.0]})
    schema = pa.schema([table.schema.field("USUBJID").with_metadata({"label": "Unique Subject Identifier",
                                                                      "length": "11"}),
                        table.schema.field("TRTSDT").with_metadata({"format": "DATE9."})],
                       metadata={"label": "Demographics"})
    pq.write_table(table.cast(schema), tmp_path / "dm.parquet")
    _, meta = read_dataset(tmp_path / "dm.parquet")
    assert meta.label == "Demographics"
    assert (meta.variables["USUBJID"].label, meta.variables["USUBJID"].length) == ("Unique Subject Identifier", 11)
    assert meta.variables["TRTSDT"].format == "DATE9."


def test_spec_from_the_inputs_attributes(tmp_path):
    frames = {"AE": pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["A"], "AESEQ": [1.0], "AETERM": ["X"],
                                  "AESTDTC": ["2014"], "AEDUR": [1.5]}),
              "SUPPAE": pd.DataFrame({"STUDYID": ["S"], "RDOMAIN": ["AE"], "USUBJID": ["A"], "IDVAR": [None],
                                      "IDVARVAL": [None], "QNAM": ["Q"], "QVAL": ["v"]}),
              "XX": pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["A"], "XXSEQ": [1.0], "XXTESTCD": ["T"]})}
    datasets = {}
    for name, df in frames.items():
        path = tmp_path / f"{name.lower()}.parquet"
        df.to_parquet(path)
        data, meta = read_dataset(path, as_text=True)
        datasets[name] = SimpleNamespace(name=name, path=path, data=data, meta=meta)
    study = SimpleNamespace(study=SimpleNamespace(id="S", title="T"), standards=SimpleNamespace(sdtmig="3.4"))
    spec = spec_from_input(datasets, study)
    by = {d.name: d for d in spec.datasets}
    assert (by["AE"].cls, by["AE"].label, by["AE"].keys) == ("EVENTS", "Adverse Events", ("STUDYID", "USUBJID", "AESEQ"))
    assert (by["SUPPAE"].cls, by["SUPPAE"].label) == ("RELATIONSHIP", "Supplemental Qualifiers for AE")
    assert by["XX"].cls == "FINDINGS" and by["XX"].label == "XX"  # a sponsor domain: class from its topic
    types = {(v.dataset, v.name): (v.data_type, v.core) for v in spec.variables}
    assert types[("AE", "AESEQ")] == ("integer", "Req") and types[("AE", "AEDUR")] == ("float", "Perm")
    assert types[("AE", "AESTDTC")][0] == "datetime"
    assert types[("SUPPAE", "IDVAR")] == ("text", "Perm")  # a key with nulls is not Required
    assert {v.origin for v in spec.variables} == {"Not Available"}
