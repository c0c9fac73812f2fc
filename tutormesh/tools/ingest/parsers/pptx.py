"""PPTX decks (python-pptx): titles, body text, notes, tables, pictures' alt text, charts, OMML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER

from tutormesh.core.settings import Settings
from tutormesh.tools.ingest.draft import Figure
from tutormesh.tools.ingest.parsers import omml
from tutormesh.tools.ingest.parsers.base import Deadline, Parsed, SlideBuilder, check_count, table_markdown

# python-pptx and older PowerPoint put the picture's file name where alt text goes: not a description.
_FILE_NAME = re.compile(r"[\w\-. ]{1,80}\.(png|jpe?g|gif|bmp|tiff?|emf|wmf|svg|webp)", re.IGNORECASE)
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.VERTICAL_TITLE}


def parse(path: Path, settings: Settings) -> Parsed:
    """Read a PPTX deck (its zip already checked by the caller); refuse one with too many slides."""
    prs = Presentation(str(path))
    check_count(len(prs.slides), settings.ingest_max_pages, "slide")
    out = Parsed()
    layouts: dict[int, dict[int, tuple[int, int]]] = {}
    deadline = Deadline(settings)
    for number, slide in enumerate(prs.slides, 1):
        deadline.check(f"slide {number}")
        built = SlideBuilder(number)
        layout = slide.slide_layout
        if id(layout) not in layouts:
            layouts[id(layout)] = {ph.placeholder_format.idx: (ph.top or 0, ph.left or 0) for ph in layout.placeholders}
        for shape in _reading_order(slide.shapes, layouts[id(layout)]):
            _read_shape(shape, built, out.warnings)
        built.formulas += [omml.linear(m) for m in omml.math_elements(slide._element)]
        if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame) is not None:
            built.notes.append(notes.text)
        out.slides.append(built.build())
    return out


def _reading_order(shapes: Any, inherited: dict[int, tuple[int, int]]) -> Iterator[Any]:
    """Yield shapes top to bottom, then left to right, groups opened in place.

    A placeholder without its own position takes its layout's (``inherited``, by placeholder idx):
    python-pptx would walk the layout again for every shape, most of the parse time.
    """

    def position(shape: Any) -> tuple[int, int]:
        for xfrm in shape._element.iter(_A + "xfrm", _P + "xfrm"):
            off = xfrm.find(_A + "off")
            if off is not None:
                return int(off.get("y", 0)), int(off.get("x", 0))
            break
        return inherited.get(shape.placeholder_format.idx, (0, 0)) if shape.is_placeholder else (0, 0)

    for shape in sorted(shapes, key=position):
        if _tag(shape) == "grpSp":
            yield from _reading_order(shape.shapes, inherited)
        else:
            yield shape


def _tag(shape: Any) -> str:
    return str(etree.QName(shape._element).localname)


def _read_shape(shape: Any, slide: SlideBuilder, warnings: list[str]) -> None:
    if shape.is_placeholder and shape.placeholder_format.type in _TITLES and not slide.title:
        slide.title = shape.text_frame.text.replace("\v", " ") if shape.has_text_frame else ""
        return
    if shape.has_text_frame:
        for para in shape.text_frame.paragraphs:
            if text := para.text.replace("\v", " ").strip():  # python-pptx writes line breaks as \v
                slide.lines.append("  " * para.level + text)
    if getattr(shape, "has_table", False):
        rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
        slide.tables.append(table_markdown(rows))
    if getattr(shape, "has_chart", False):
        slide.figures.append(Figure(alt=_alt(shape) or _chart_summary(shape.chart), kind="chart"))
    elif _tag(shape) == "pic":
        if alt := _alt(shape):
            slide.figures.append(Figure(alt=alt))
        else:
            warnings.append(f"slide {slide.number}: a picture has no alt text")


def _alt(shape: Any) -> str:
    """Return a shape's alt text (its description, else its title attribute)."""
    props = shape._element.xpath("./*[1]/p:cNvPr")
    if not props:
        return ""
    alt = str(props[0].get("descr") or props[0].get("title") or "").strip()
    return "" if _FILE_NAME.fullmatch(alt) else alt


def _chart_summary(chart: Any) -> str:
    """Describe a chart without alt text from its own data: type, title, series and values."""
    title = chart.chart_title.text_frame.text if chart.has_title else ""
    kind = str(chart.chart_type).split(".")[-1].split(" ")[0].replace("_", " ").lower()
    plot = chart.plots[0] if len(chart.plots) else None
    categories = [str(c) for c in plot.categories] if plot is not None else []
    series = []
    for s in chart.series:
        pairs = ", ".join(f"{c}: {v:g}" for c, v in zip(categories, s.values, strict=False) if v is not None)
        series.append(f"{s.name} ({pairs})")
    return f"{kind} chart{' ' + repr(title) if title else ''}: " + "; ".join(series)
