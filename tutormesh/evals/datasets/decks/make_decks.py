"""Build the labelled tutorial decks from specs.yaml, reproducibly, and write their labels.

Run from the repository root: ``python tutormesh/evals/datasets/decks/make_decks.py``. It writes each
deck of specs.yaml in each of its formats next to this file and ``../deck_labels.jsonl``: one row per
file, ``{"file", "subject", "sections": [[first, last], ...], "exercises": [{"slide", "prompt",
"answer", "kind"}]}`` with slides numbered from 1, one section per lesson (from its section slide to
the slide before the next lesson or the summary) and one exercise row per worked example
(``kind: worked``) or exercise (``kind: exercise``). Zip members get a fixed timestamp and the PDF a
fixed creation date, so re-running it changes no bytes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
LABELS = HERE.parent / "deck_labels.jsonl"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"

Spec = dict[str, Any]


def body_lines(slide: Spec) -> list[str]:
    """Return the visible text lines of a slide: bullets, then a worked example, then exercises."""
    lines = list(slide.get("bullets", []))
    if worked := slide.get("worked"):
        lines.append(f"Problem: {worked['prompt']}")
        lines += [f"Step {i}: {step}" for i, step in enumerate(worked["steps"], 1)]
        lines.append(f"Answer: {worked['answer']}")
    for ex in slide.get("exercises", []):
        lines.append(f"Exercise: {ex['prompt']}")
        if not ex.get("in_notes"):
            lines.append(f"Answer: {ex['answer']}")
    return lines


def is_item(line: str) -> bool:
    """Tell a bullet from a labelled line ("Problem:", "Step 1:", "Answer:", "Exercise:")."""
    return not (line.split(" ")[0].endswith(":") or line.startswith("Step "))


def notes_text(slide: Spec) -> str:
    """Return the speaker notes: the spec's notes and any answer kept only in the notes."""
    parts = [slide["notes"]] if slide.get("notes") else []
    parts += [f"Answer: {ex['answer']}" for ex in slide.get("exercises", []) if ex.get("in_notes")]
    return "\n".join(parts)


def labels(deck: Spec, file_name: str) -> dict[str, Any]:
    """Return the label row of one rendered deck (the same for every format of a deck)."""
    slides = deck["slides"]
    starts = [n for n, s in enumerate(slides, 1) if s.get("kind") == "section"]
    summary = next((n for n, s in enumerate(slides, 1) if s.get("kind") == "summary"), len(slides) + 1)
    ends = [*(s - 1 for s in starts[1:]), summary - 1]
    exercises: list[dict[str, Any]] = []
    for n, slide in enumerate(slides, 1):
        if worked := slide.get("worked"):
            exercises.append({"slide": n, "prompt": worked["prompt"], "answer": worked["answer"], "kind": "worked"})
        exercises += [
            {"slide": n, "prompt": ex["prompt"], "answer": ex["answer"], "kind": "exercise"}
            for ex in slide.get("exercises", [])
        ]
    return {
        "file": file_name,
        "subject": deck["subject"],
        "sections": [[a, b] for a, b in zip(starts, ends, strict=True)],
        "exercises": exercises,
    }


def figure_png(fig: Spec) -> bytes:
    """Draw a small line drawing standing for the figure (students and the parser see its alt text)."""
    alt, kind = fig["alt"], fig.get("kind", "picture")
    image = Image.new("L", (480, 270), 255)
    draw = ImageDraw.Draw(image)
    if kind == "chart":
        draw.line([(40, 240), (460, 240)], fill=0, width=3)
        draw.line([(40, 240), (40, 20)], fill=0, width=3)
        values = fig.get("chart", {}).get("values", [1, 6, 7])
        top, step = max(values) or 1, 420 / max(len(values) - 1, 1)
        draw.line([(40 + i * step, 240 - 210 * v / top) for i, v in enumerate(values)], fill=60, width=4)
    else:
        seed = sum(map(ord, alt))
        for i in range(4):
            x, y = 30 + (seed * (i + 3)) % 300, 30 + (seed * (i + 7)) % 150
            draw.rectangle([x, y, x + 120, y + 70], outline=0, width=3)
        draw.line([(20, 250), (460, 250)], fill=0, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def omml(formula: str) -> str:
    """Return an <m:oMath> element for a linear formula: ``X_y`` and ``X^y`` become sub/superscripts."""
    parts: list[str] = []
    pos = 0
    for m in re.finditer(r"([^\s_^{}=+\-,()/·]+)([_^])(\{[^}]*\}|[^\s_^=+\-,()/·]+)", formula):
        if m.start() > pos:
            parts.append(_m_run(formula[pos : m.start()]))
        tag = "sSub" if m.group(2) == "_" else "sSup"
        slot = "sub" if tag == "sSub" else "sup"
        parts.append(f"<m:{tag}><m:e>{_m_run(m.group(1))}</m:e><m:{slot}>{_m_run(m.group(3).strip('{}'))}</m:{slot}></m:{tag}>")
        pos = m.end()
    if pos < len(formula):
        parts.append(_m_run(formula[pos:]))
    return f'<m:oMath xmlns:m="{M_NS}">{"".join(parts)}</m:oMath>'


def _m_run(text: str) -> str:
    return f'<m:r><m:t xml:space="preserve">{escape(text)}</m:t></m:r>'


def render_pptx(deck: Spec, path: Path) -> None:
    """Write the deck as PPTX: placeholders, tables, pictures with alt text, native charts, OMML, notes."""
    from lxml import etree
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    prs.core_properties.created = prs.core_properties.modified = datetime(2026, 1, 1)
    prs.core_properties.title = deck["slides"][0]["title"]
    for slide_spec in deck["slides"]:
        kind = slide_spec.get("kind", "content")
        rich = any(k in slide_spec for k in ("table", "figure", "formula"))
        layout = {"title": 0, "section": 2}.get(kind, 5 if rich else 1)
        slide = prs.slides.add_slide(prs.slide_layouts[layout])
        slide.shapes.title.text = slide_spec["title"]
        lines = body_lines(slide_spec)
        if layout in (0, 1, 2):
            slide.placeholders[1].text_frame.text = "\n".join(lines)
        else:
            box = slide.shapes.add_textbox(Inches(0.6), Inches(1.6), Inches(6.4), Inches(5.4)).text_frame
            box.word_wrap = True
            box.text = "\n".join(lines)
            for para in box.paragraphs:
                para.font.size = Pt(18)
            if formula := slide_spec.get("formula"):
                para = box.add_paragraph()._p
                para.append(etree.fromstring(_pptx_math(formula)))
        if rows := slide_spec.get("table"):
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(7.2), Inches(1.8), Inches(5.6), Inches(0.5))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = value
        if fig := slide_spec.get("figure"):
            if chart := fig.get("chart"):
                data = CategoryChartData()
                data.categories = chart["categories"]
                data.add_series(chart["series"], chart["values"])
                frame = slide.shapes.add_chart(
                    XL_CHART_TYPE.LINE_MARKERS, Inches(7.2), Inches(1.8), Inches(5.6), Inches(4.2), data
                )
                frame.chart.has_title = True
                frame.chart.chart_title.text_frame.text = chart["series"]
                frame._element.nvGraphicFramePr.cNvPr.set("descr", fig["alt"])
            else:
                png = io.BytesIO(figure_png(fig))
                pic = slide.shapes.add_picture(png, Inches(7.4), Inches(4.3 if rows else 1.8), Inches(5.2))
                pic._element.nvPicPr.cNvPr.set("descr", fig["alt"])
        if notes := notes_text(slide_spec):
            slide.notes_slide.notes_text_frame.text = notes
    prs.save(str(path))
    _fix_zip_times(path)


def _pptx_math(formula: str) -> str:
    return (
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        '<mc:Choice xmlns:a14="http://schemas.microsoft.com/office/drawing/2010/main" Requires="a14">'
        f'<a14:m><m:oMathPara xmlns:m="{M_NS}">{omml(formula)}</m:oMathPara></a14:m></mc:Choice>'
        '<mc:Fallback><a:r xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        f"<a:t>{escape(formula)}</a:t></a:r></mc:Fallback></mc:AlternateContent>"
    )


def render_pdf(deck: Spec, path: Path) -> None:
    """Write the deck as a 16:9 PDF, one page per slide, pictures tagged with their alt text."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format=(142.875, 254.0))
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.set_title(deck["slides"][0]["title"])
    pdf.set_auto_page_break(False)
    for slide in deck["slides"]:
        pdf.add_page()
        big = slide.get("kind") in ("title", "section")
        pdf.set_font("Helvetica", "B", 30 if big else 22)
        pdf.set_xy(14, 40 if big else 10)
        pdf.multi_cell(226, 12, slide["title"], new_x="LMARGIN", new_y="NEXT")
        has_side = "table" in slide or "figure" in slide
        width = 120 if has_side else 226
        pdf.set_font("Helvetica", "", 13)
        for line in body_lines(slide):
            pdf.set_x(14)
            pdf.multi_cell(width, 6.5, f"- {line}" if is_item(line) else line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        if formula := slide.get("formula"):
            pdf.set_font("Times", "I", 16)
            pdf.set_x(14)
            pdf.multi_cell(width, 9, formula, align="C", new_x="LMARGIN", new_y="NEXT")
        if rows := slide.get("table"):
            pdf.set_font("Helvetica", "", 11)
            pdf.set_xy(138, 30)
            with pdf.table(width=104, align="RIGHT", first_row_as_headings=True) as table:
                for row in rows:
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
        if fig := slide.get("figure"):
            png = io.BytesIO(figure_png(fig))
            pdf.image(png, x=138, y=80 if "table" in slide else 30, w=104, alt_text=fig["alt"])
    pdf.output(str(path))


def render_md(deck: Spec, path: Path) -> None:
    """Write the deck as Markdown: a level-1 heading per title or lesson, a level-2 heading per slide."""
    out: list[str] = []
    for n, slide in enumerate(deck["slides"], 1):
        level = "#" if slide.get("kind") in ("title", "section") else "##"
        out += [f"{level} {slide['title']}", ""]
        for line in body_lines(slide):
            if is_item(line) and out[-2].startswith("- "):
                out.pop()  # a tight list: no blank line between bullets
            out += [f"- {line}" if is_item(line) else line, ""]
        if formula := slide.get("formula"):
            out += ["$$", formula, "$$", ""]
        if rows := slide.get("table"):
            out += ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
            out += ["| " + " | ".join(row) + " |" for row in rows[1:]] + [""]
        if fig := slide.get("figure"):
            out += [f"![{fig['alt']}](figures/{deck['name']}-{n}.png)", ""]
        if code := slide.get("code"):
            out += ["```python", code, "```", ""]
        if notes := notes_text(slide):
            out += [f"<!-- Notes: {notes} -->", ""]
    path.write_text("\n".join(out), encoding="utf-8")


def render_docx(deck: Spec, path: Path) -> None:
    """Write the deck as DOCX: Title/Heading 1/Heading 2 per slide, tables, pictures with alt text, OMML."""
    from docx import Document
    from docx.oxml import parse_xml
    from docx.shared import Inches

    doc = Document()
    doc.core_properties.created = doc.core_properties.modified = datetime(2026, 1, 1)
    for slide in deck["slides"]:
        doc.add_heading(slide["title"], {"title": 0, "section": 1}.get(slide.get("kind", ""), 2))
        for line in body_lines(slide):
            doc.add_paragraph(line, style="List Bullet" if is_item(line) else None)
        if formula := slide.get("formula"):
            para = doc.add_paragraph()
            para._p.append(parse_xml(f'<m:oMathPara xmlns:m="{M_NS}">{omml(formula)}</m:oMathPara>'))
        if rows := slide.get("table"):
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        if fig := slide.get("figure"):
            shape = doc.add_picture(io.BytesIO(figure_png(fig)), width=Inches(4))
            shape._inline.docPr.set("descr", fig["alt"])
    doc.save(str(path))
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """Give every member of a zip (and of the chart workbooks inside it) a fixed timestamp."""
    path.write_bytes(_fixed_zip(path.read_bytes()))


def _fixed_zip(blob: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(blob)) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info, data in members:
            if info.filename.endswith(".xlsx"):
                data = _fixed_zip(data)
            elif info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)
    return out.getvalue()


RENDERERS = {"pptx": render_pptx, "pdf": render_pdf, "md": render_md, "docx": render_docx}


def load_specs() -> list[Spec]:
    """Return the hand-written deck specs."""
    specs: list[Spec] = yaml.safe_load((HERE / "specs.yaml").read_text(encoding="utf-8"))
    return specs


def build(out_dir: Path = HERE) -> Iterator[dict[str, Any]]:
    """Render every deck in every format into out_dir and yield the label rows in order."""
    for deck in load_specs():
        for fmt in deck["formats"]:
            name = f"{deck['name']}.{fmt}"
            RENDERERS[fmt](deck, out_dir / name)
            yield labels(deck, name)


def main() -> None:
    """Write the decks and deck_labels.jsonl; print each file's size."""
    rows = list(build())
    LABELS.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    for row in rows:
        size = (HERE / row["file"]).stat().st_size
        print(f"{row['file']:28} {size / 1024:6.1f} KB  {len(row['sections'])} lessons  {len(row['exercises'])} items")


if __name__ == "__main__":
    main()
