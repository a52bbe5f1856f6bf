"""The content of a reviewer's guide as plain data: numbered headings, paragraphs and tables.
The section builders fill it from the metadata and the build; the writer turns it into DOCX."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    number: str  # "1", "2.3", "Appendix I"
    text: str
    level: int  # 1 = chapter

    @property
    def full(self) -> str:
        return f"{self.number} {self.text}" if self.number else self.text


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()  # relative column widths; empty: equal
    caption: str = ""

    def __post_init__(self):
        if self.widths and len(self.widths) != len(self.columns):
            raise ValueError(f"table {self.caption!r}: {len(self.widths)} widths for {len(self.columns)} columns")
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.caption!r}: row {row!r} has {len(row)} cells, not {len(self.columns)}")


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class GuideDocument:
    title: str  # e.g. "Clinical Study Data Reviewer's Guide"
    cover: tuple[str, ...]  # lines under the title on the first page (study, sponsor, date)
    header: str  # running page header
    blocks: tuple[Block, ...]

    def headings(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading)]
