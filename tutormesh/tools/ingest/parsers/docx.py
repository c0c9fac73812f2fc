"""DOCX decks (python-docx): a slide per Title/Heading 1/Heading 2, tables, pictures' alt text, OMML."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from tutormesh.tools.ingest.draft import Figure
from tutormesh.tools.ingest.parsers import omml
from tutormesh.tools.ingest.parsers.base import Parsed, SlideBuilder, check_count, table_markdown

_SLIDE_STYLES = {"Title", "Heading 1", "Heading 2"}


def parse(path: Path, max_pages: int) -> Parsed:
    """Read a DOCX deck (its zip already checked by the caller); refuse one with too many sections."""
    doc = Document(str(path))
    out = Parsed()
    slide = SlideBuilder(1)
    for block in doc.element.body.iterchildren():
        if block.tag == qn("w:tbl"):
            table = Table(block, doc)
            slide.tables.append(table_markdown([[cell.text for cell in row.cells] for row in table.rows]))
            continue
        if block.tag != qn("w:p"):
            continue
        para = Paragraph(block, doc)
        style = para.style.name if para.style is not None else ""
        text = para.text.strip()
        if style in _SLIDE_STYLES and text:
            if slide.title or slide.lines or slide.tables or slide.figures or slide.formulas:
                out.slides.append(slide.build())
                check_count(len(out.slides) + 1, max_pages, "section")
                slide = SlideBuilder(len(out.slides) + 1)
            if not slide.title:
                slide.title = text
                continue
        if text:
            slide.lines.append(f"- {text}" if style.startswith("List") else text)
        slide.formulas += [omml.linear(m) for m in omml.math_elements(block)]
        for doc_pr in block.iter(qn("wp:docPr")):
            alt = (doc_pr.get("descr") or doc_pr.get("title") or "").strip()
            if alt:
                slide.figures.append(Figure(alt=alt))
            else:
                out.warnings.append(f"section {slide.number}: a picture has no alt text")
    out.slides.append(slide.build())
    return out
