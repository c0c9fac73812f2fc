"""DOCX decks (python-docx): a slide per Title/Heading 1/Heading 2 (or outline level 1-2), tables,
pictures' alt text, OMML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from tutormesh.core.settings import Settings
from tutormesh.tools.ingest.draft import Figure
from tutormesh.tools.ingest.parsers import omml
from tutormesh.tools.ingest.parsers.base import Deadline, Parsed, SlideBuilder, check_count, table_markdown

_SLIDE_STYLES = {"Title", "Heading 1", "Heading 2"}  # and custom styles at outline level 1-2


def parse(path: Path, settings: Settings) -> Parsed:
    """Read a DOCX deck (its zip already checked by the caller); refuse one with too many sections."""
    doc = Document(str(path))
    # Style names by id, looked up once: python-docx's per-paragraph `style` rescans every style.
    names = {style.style_id: style.name or "" for style in doc.styles}
    slide_styles = {s.style_id for s in doc.styles if s.type == WD_STYLE_TYPE.PARAGRAPH and _starts_slide(s)}
    default = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_id = default.style_id if default is not None else ""
    out = Parsed()
    slide, deadline = SlideBuilder(1), Deadline(settings)
    for block in _blocks(doc.element.body):
        deadline.check(f"section {slide.number}")
        if block.tag == qn("w:tbl"):
            table = Table(block, doc)
            slide.tables.append(table_markdown([[cell.text for cell in row.cells] for row in table.rows]))
            continue
        if block.tag != qn("w:p"):
            continue
        para = Paragraph(block, doc)
        style = names.get(block.style or default_id, "")
        text = para.text.strip()
        if (block.style or default_id) in slide_styles and text:
            if slide.title or slide.lines or slide.tables or slide.figures or slide.formulas:
                out.slides.append(slide.build())
                check_count(len(out.slides) + 1, settings.ingest_max_pages, "section")
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


def _starts_slide(style: Any) -> bool:
    """Title, Heading 1, Heading 2, or a style that has (or inherits) outline level 1 or 2."""
    for _ in range(10):  # base-style chains are short; a cyclic one is broken off
        if style is None:
            return False
        if (style.name or "") in _SLIDE_STYLES:
            return True
        ppr = style.element.pPr
        level = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
        if level is not None:
            return level.get(qn("w:val")) in ("0", "1")
        style = getattr(style, "base_style", None)
    return False


def _blocks(body: Any) -> Iterator[Any]:
    """Yield the body's paragraphs and tables in order, content controls (w:sdt) opened in place."""
    for block in body.iterchildren():
        if block.tag == qn("w:sdt"):
            content = block.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content)
        else:
            yield block
