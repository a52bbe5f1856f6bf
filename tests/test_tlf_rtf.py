"""RTF of the TLF outputs, the formats setting and the bookmarked PDF bundle.

RTF structure is read back from the file text (control words of the RTF 1.9 specification):
header rows flagged \\trhdr, footnotes and source on every page, PAGE / NUMPAGES fields, the
embedded PNG, ASCII only. Where LibreOffice is installed the RTF and the DOCX of real outputs of
the default study are laid out by it and must give the same pages; the PDF bundle's bookmarks and
page labels are read with pypdf and compared with tlf_index.csv."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import ADAM_DIR
from submit.cli import main
from submit.errors import InputError
from submit.tlf import (HeaderCell, RenderedOutput, Table, load_shells, render_output,
                        write_docx)
from submit.tlf.package import write_tlf_package
from submit.tlf.pdf_bundle import BundleEntry, start_pdf_bundle, write_pdf_bundle
from submit.tlf.rtf_writer import escape, write_rtf
from submit.tlf.settings import load_tlf_settings, parse_formats
from test_tlf_pages import FOOTNOTE, SOC_SHELL, shells_of, soc_ard

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs" / "mt103-206"
HAS_SOFFICE = shutil.which("soffice") is not None
needs_soffice = pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) converts the documents")


@pytest.fixture(scope="module")
def soc(tmp_path_factory, context, layout):
    """The synthetic SOC/PT table of test_tlf_pages (4 x 26 rows: several pages) as RTF and DOCX."""
    folder = tmp_path_factory.mktemp("soc")
    (shell,) = shells_of(folder / "shell", SOC_SHELL)
    output = render_output(shell, soc_ard(), context, layout, folder)
    (pages,) = write_docx([output], folder / "soc.docx", layout, context, title="SOC")
    n = write_rtf(output, folder / "soc.rtf", layout, context, title="SOC")
    return folder / "soc.rtf", n, pages


def rtf_pages(text: str) -> list[str]:
    return text.split("\\page")


# RTF text -----------------------------------------------------------------------------------------
def test_non_ascii_text_becomes_signed_unicode_escapes():
    # RTF 1.9 \uN: N a signed 16-bit value; beyond the BMP a UTF-16 surrogate pair (U+1D6FC =
    # D835 DEFC = 55349 - 65536, 57084 - 65536).
    assert escape("Mean ≥ 5 µg {x} \\ é") == "Mean \\u8805? 5 \\u181?g \\{x\\} \\\\ \\u233?"
    assert escape("\ufffd") == "\\u-3?"
    assert escape("\U0001d6fc") == "\\u-10187?\\u-8452?"
    assert escape("a\nb\tc") == "a\\line b c"


def test_rtf_is_ascii_with_landscape_letter_page_and_the_build_date(soc):
    path, _, _ = soc
    data = path.read_bytes()
    assert max(data) < 128
    text = data.decode("ascii")
    assert text.startswith("{\\rtf1\\ansi") and text.count("{") - text.count("\\{") == text.count("}") - text.count("\\}")
    # letter landscape 11 x 8.5 in, margins of templates/tlf/layout.yaml (1 in = 1440 twips)
    assert "\\paperw15840\\paperh12240" in text and "\\landscape" in text
    assert "\\margl1440\\margr1440\\margt1440\\margb1152" in text and "\\headery648" in text
    assert "{\\creatim\\yr2026\\mo11\\dy25\\hr0\\min0}" in text
    assert "Courier New" in text and "\\fs16" in text  # 8 pt in half-points


def test_every_page_has_titles_and_headers_as_header_rows_footnotes_and_source(soc):
    path, n, docx_pages = soc
    text = path.read_text(encoding="ascii")
    pages = rtf_pages(text)
    assert n == docx_pages == len(pages) and n >= 3
    for k, page in enumerate(pages):
        rows = re.findall(r"\\trowd.*?\\row", page, re.S)
        flagged = [r for r in rows if "\\trhdr" in r]
        assert len(flagged) == 3  # the title block and two column header rows (Cohort span, arms)
        assert rows[:3] == flagged  # header rows come first
        assert "Table 14.3.9" in flagged[0] and "All treated subjects" in flagged[0]
        assert page.count(FOOTNOTE) == 1 and page.count("Source: ADSL, ADAE (SAFFL='Y')") == 1
        assert (" (continued)" in page) == (k > 0)
    assert text.count("\\trhdr") == 3 * n


def test_page_x_of_y_fields_carry_the_computed_count(soc):
    path, n, _ = soc
    text = path.read_text(encoding="ascii")
    header = re.search(r"\{\\header(.*?)\n\}", text, re.S).group(1)
    assert "Page {\\field{\\*\\fldinst PAGE }{\\fldrslt 1}} of {\\field{\\*\\fldinst NUMPAGES }{\\fldrslt " \
           f"{n}}}}}" in header
    assert "\\pgnrestart\\pgnstarts1" in text


def test_decimal_padding_and_indentation_are_cell_indents_in_twips(tmp_path, context, layout):
    # 8 pt Courier: 0.6 em = 4.8 pt = 96 twips a character; an indent level is 2 characters
    body = pd.DataFrame({"label": ["Age", "Mean"], "value": ["", "40.3"]})
    table = Table(header=((HeaderCell("Statistic"), HeaderCell("Total")),), body=body, indent=np.array([0, 1]),
                  widths=(10.0, 8.0), min_widths=(4.0, 4.0), align=("left", "center"),
                  pad_left=np.array([[0, 0], [0, 3]]), pad_right=np.array([[0, 0], [0, 1]]))
    output = RenderedOutput(
        id="14.1.9", kind="Table", file="t", titles=("Small",), population="All", population_flag=None,
        datasets=("ADSL",), footnotes=(), source="Source: ADSL.", table=table)
    write_rtf(output, tmp_path / "t.rtf", layout, context, title="t")
    text = (tmp_path / "t.rtf").read_text(encoding="ascii")
    assert "\\pard\\plain\\intbl\\ql\\li192\\f0\\fs16 Mean\\cell" in text
    assert "\\pard\\plain\\intbl\\qc\\li288\\ri96\\f0\\fs16 40.3\\cell" in text


def test_figure_is_the_png_embedded(tmp_path, context, layout):
    png = tmp_path / "f.png"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(4, 4), dpi=50)  # square: limited by the figure height, 4.6 in
    fig.savefig(png, metadata={"Software": None})
    plt.close(fig)
    output = RenderedOutput(
        id="14.2.9", kind="Figure", file="f", titles=("KM",), population="All", population_flag=None,
        datasets=("ADTTE",), footnotes=("Note.",), source="Source: ADTTE.", figure=png)
    assert write_rtf(output, tmp_path / "f.rtf", layout, context, title="f") == 1
    text = (tmp_path / "f.rtf").read_text(encoding="ascii")
    pict = re.search(r"\{\\pict\\pngblip\\picw(\d+)\\pich(\d+)\\picwgoal(\d+)\\pichgoal(\d+)\s([0-9a-f\s]+)\}", text)
    assert pict and (int(pict[1]), int(pict[2])) == (200, 200)
    assert (int(pict[3]), int(pict[4])) == (6624, 6624)  # 4.6 in x 1440
    assert bytes.fromhex(re.sub(r"\s", "", pict[5])) == png.read_bytes()
    assert "Figure 14.2.9" in text and "Note." in text and "\\page" not in text


def test_rtf_bytes_are_reproducible(soc, tmp_path, context, layout):
    path, _, _ = soc
    (shell,) = shells_of(tmp_path / "shell", SOC_SHELL)
    output = render_output(shell, soc_ard(), context, layout, tmp_path)
    write_rtf(output, tmp_path / "again.rtf", layout, context, title="SOC")
    assert (tmp_path / "again.rtf").read_bytes() == path.read_bytes()


# settings ------------------------------------------------------------------------------------------
def test_formats_setting_default_order_and_errors(tmp_path):
    assert load_tlf_settings(tmp_path).formats == ("docx", "rtf")
    (tmp_path / "settings.yaml").write_text("formats: [pdf, rtf]\n", encoding="utf-8")
    assert load_tlf_settings(tmp_path).formats == ("rtf", "pdf")
    (tmp_path / "settings.yaml").write_text("formats: [rtf, pdfx]\nfont: big\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_tlf_settings(tmp_path)
    where = {(p.file, p.key) for p in err.value.problems}
    assert (str(tmp_path / "settings.yaml"), "formats.1") in where and (str(tmp_path / "settings.yaml"), "font") in where
    with pytest.raises(InputError):
        parse_formats("pdf")
    assert parse_formats("rtf, docx") == ("docx", "rtf")


def test_settings_file_is_not_read_as_shells():
    assert (SPECS / "tlf" / "settings.yaml").is_file()
    assert all(s.source.endswith(".yaml") and not s.source.endswith("settings.yaml") for s in load_shells(SPECS / "tlf"))


def test_rtf_only_writes_no_docx_and_no_pdf_without_libreoffice(tmp_path, context, layout, monkeypatch, caplog):
    (shell,) = shells_of(tmp_path / "shell", SOC_SHELL)
    monkeypatch.setattr("submit.tlf.pdf_bundle.libreoffice", lambda: None)
    with caplog.at_level(logging.WARNING, logger="submit.tlf"):
        index = write_tlf_package([shell], {shell.id: soc_ard()}, tmp_path / "tlf", context, layout,
                                  formats=("rtf", "pdf"))
    assert sorted(p.name for p in (tmp_path / "tlf").glob("*.*")) == ["t_soc.rtf", "tlf_index.csv"]
    assert index.loc[0, "rtf"] == "t_soc.rtf" and index.loc[0, "file"] == "" and index.loc[0, "pdf_pages"] == ""
    assert "LibreOffice (soffice) is not installed" in caplog.text


# the default study through LibreOffice ----------------------------------------------------------
@pytest.fixture(scope="module")
def package(default_adam, tmp_path_factory) -> Path:
    """The default study's TLFs in every format, by the command line."""
    out = tmp_path_factory.mktemp("tlf") / "tlf"
    result = CliRunner().invoke(main, ["-q", "--specs", str(SPECS), "tlf", "--adam", str(default_adam[1] / ADAM_DIR),
                                       "--out", str(out), "--format", "docx,rtf,pdf"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def index(package) -> pd.DataFrame:
    return pd.read_csv(package / "tlf_index.csv", dtype=str, keep_default_na=False)


def test_every_output_is_docx_and_rtf(package, index):
    assert len(index) == 26
    for docx, rtf in zip(index["file"], index["rtf"]):
        assert docx.endswith(".docx") and (package / docx).is_file()
        assert rtf == docx[:-5] + ".rtf" and (package / rtf).is_file()


@needs_soffice
@pytest.mark.parametrize("output", ["14.3.1.2", "14.4.3", "14.2.6.2", "16.2.6.1"])
def test_libreoffice_lays_out_the_rtf_on_the_pages_of_the_docx(package, index, output, tmp_path):
    row = index.set_index("id").loc[output]
    rtf_text = (package / row["rtf"]).read_text(encoding="ascii")
    computed = int(re.search(r"fldinst NUMPAGES \}\{\\fldrslt (\d+)\}", rtf_text)[1])
    counts = {}
    for kind in ("rtf", "docx"):
        source = package / (row["rtf"] if kind == "rtf" else row["file"])
        subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(tmp_path / kind), str(source)],
                       check=True, capture_output=True, timeout=300)
        reader = PdfReader(tmp_path / kind / f"{source.stem}.pdf")
        counts[kind] = len(reader.pages)
        if kind == "rtf":
            for k, page in enumerate(reader.pages, start=1):
                text = page.extract_text()
                assert f"Page {k} of {computed}" in text and "Source: " in text
    assert counts["rtf"] == counts["docx"] == computed


@needs_soffice
def test_pdf_bookmarks_are_the_index_and_pages_are_labelled_per_output(package, index):
    reader = PdfReader(package / "tlf_all.pdf")
    (root, children) = reader.outline
    assert root.title == "MT103-206: Tables, Listings and Figures"
    assert [c.title for c in children] == (index["kind"] + " " + index["id"] + " " + index["title"]).tolist()
    first = [int(p.split("-")[0]) for p in index["pdf_pages"]]
    assert [reader.get_destination_page_number(c) + 1 for c in children] == first
    last = [int(p.split("-")[1]) for p in index["pdf_pages"]]
    assert last[-1] == len(reader.pages) and first == [1] + [x + 1 for x in last[:-1]]
    labels = reader.page_labels
    for output, a, b in zip(index["id"], first, last):
        assert labels[a - 1:b] == [f"{output}-{k}" for k in range(1, b - a + 2)]
    for rtf, a, b in zip(index["rtf"], first, last):  # LibreOffice's pages of each output: those computed
        computed = re.search(r"fldinst NUMPAGES \}\{\\fldrslt (\d+)\}", (package / rtf).read_text(encoding="ascii"))
        assert b - a + 1 == int(computed[1]), rtf
    info = reader.metadata
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261125000000Z"  # dates.build_date of study.yaml
    assert reader.trailer.get("/ID") is None


@needs_soffice
def test_pdf_bundle_is_reproducible(package, index, tmp_path):
    picks = index[index["id"].isin(["14.1.1", "14.3.1.2", "14.2.6.2", "16.2.7.2"])]
    entries = [BundleEntry(i, t, package / f) for i, t, f in zip(picks["id"], picks["title"], picks["file"])]
    digests = []
    for k in range(2):
        counts = write_pdf_bundle(entries, tmp_path / f"b{k}.pdf", "Bundle", dt.date(2026, 11, 25))
        assert counts is not None and len(counts) == 4
        digests.append(hashlib.sha256((tmp_path / f"b{k}.pdf").read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    assert PdfReader(tmp_path / "b0.pdf").metadata["/CreationDate"] == "D:20261125000000Z"


def test_a_bundle_cancelled_midway_stops_libreoffice_and_leaves_nothing(tmp_path, monkeypatch):
    # The build starts the bundle after the TLF stage and goes on; a later stage that fails cancels it.
    # A stand-in LibreOffice that never finishes, so that the cancel meets a running process.
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nexec sleep 600\n")
    fake.chmod(0o755)
    monkeypatch.setattr("submit.tlf.pdf_bundle.libreoffice", lambda: str(fake))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    job = start_pdf_bundle([BundleEntry("1", "Table 1", tmp_path / "t1.docx")], tmp_path / "b.pdf", "B",
                           dt.date(2026, 11, 25))
    assert job.process.poll() is None and any((tmp_path / "tmp").iterdir())
    job.cancel()
    assert job.process.poll() is not None  # killed, not left running
    assert not any((tmp_path / "tmp").iterdir()) and not (tmp_path / "b.pdf").exists()


def test_a_build_failing_after_the_tlf_stage_stops_the_pdf_bundle(tmp_path, monkeypatch):
    from submit import build  # noqa: PLC0415
    from submit.project import Specs  # noqa: PLC0415
    started = []

    class Job:  # records what the build does with the bundle it started
        def __init__(self, *args):
            started.append(self)
            self.cancelled = self.finished = False

        def finish(self):
            self.finished = True

        def cancel(self):
            self.cancelled = True

    monkeypatch.setattr("submit.tlf.package.start_pdf_bundle", Job)

    def fail(*args, **kwargs):
        raise RuntimeError("validation broke")

    monkeypatch.setattr(build, "validate_package", fail)
    with pytest.raises(RuntimeError, match="validation broke"):
        build.run_build(Specs(SPECS), None, tmp_path / "out")
    assert len(started) == 1 and started[0].cancelled and not started[0].finished
    assert not (tmp_path / "out" / "tlf").exists()
