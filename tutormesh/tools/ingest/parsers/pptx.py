"""PPTX decks (python-pptx): titles, body text, notes, tables, pictures' alt text, charts, OMML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

from tutormesh.tools.ingest.draft import Figure
from tutormesh.tools.ingest.parsers import omml
from tutormesh.tools.ingest.parsers.base import Parsed, SlideBuilder, check_count, table_markdown

_TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.VERTICAL_TITLE}


def parse(path: Path, max_pages: int) -> Parsed:
    """Read a PPTX deck (its zip already checked by the caller); refuse one with too many slides."""
    prs = Presentation(str(path))
    check_count(len(prs.slides), max_pages, "slide")
    out = Parsed()
    for number, slide in enumerate(prs.slides, 1):
        built = SlideBuilder(number)
        for shape in _reading_order(slide.shapes):
            _read_shape(shape, built, out.warnings)
        built.formulas += [omml.linear(m) for m in omml.math_elements(slide._element)]
        if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame) is not None:
            built.notes.append(notes.text)
        out.slides.append(built.build())
    return out


def _reading_order(shapes: Any) -> Iterator[Any]:
    """Yield shapes top to bottom, then left to right, groups opened in place."""
    for shape in sorted(shapes, key=lambda s: (s.top or 0, s.left or 0)):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _reading_order(shape.shapes)
        else:
            yield shape


def _read_shape(shape: Any, slide: SlideBuilder, warnings: list[str]) -> None:
    if shape.is_placeholder and shape.placeholder_format.type in _TITLES and not slide.title:
        slide.title = shape.text_frame.text if shape.has_text_frame else ""
        return
    if shape.has_text_frame:
        for para in shape.text_frame.paragraphs:
            if text := para.text.strip():
                slide.lines.append("  " * para.level + text)
    if getattr(shape, "has_table", False):
        rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
        slide.tables.append(table_markdown(rows))
    if getattr(shape, "has_chart", False):
        slide.figures.append(Figure(alt=_alt(shape) or _chart_summary(shape.chart), kind="chart"))
    elif shape.shape_type == MSO_SHAPE_TYPE.PICTURE or hasattr(shape, "image"):
        if alt := _alt(shape):
            slide.figures.append(Figure(alt=alt))
        else:
            warnings.append(f"slide {slide.number}: a picture has no alt text")


def _alt(shape: Any) -> str:
    """Return a shape's alt text (its description, else its title attribute)."""
    props = shape._element.xpath("./*[1]/p:cNvPr")
    if not props:
        return ""
    return str(props[0].get("descr") or props[0].get("title") or "").strip()


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
