"""Deck parsing per format: the labelled decks, and each format's features built in tmp_path."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from PIL import Image

from tutormesh.core.settings import Settings
from tutormesh.tools.ingest.parse import parse_deck
from tutormesh.tools.ingest.parsers.base import plain_formula

DECKS = Path(__file__).resolve().parents[3] / "tutormesh" / "evals" / "datasets" / "decks"
LABELS = [json.loads(line) for line in (DECKS.parent / "deck_labels.jsonl").read_text("utf-8").splitlines()]
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"


def _norm(text: str) -> str:
    return " ".join(text.split())


def _make_decks() -> Any:
    spec = importlib.util.spec_from_file_location("make_decks", DECKS / "make_decks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("L", (40, 30), 128).save(out, format="PNG")
    return out.getvalue()


def test_labels_cover_every_subject_and_format() -> None:
    assert {row["subject"] for row in LABELS} == {"math", "science", "engineering"}
    assert {row["file"].rsplit(".", 1)[1] for row in LABELS} == {"pdf", "pptx", "md", "docx"}
    for row in LABELS:
        assert (DECKS / row["file"]).stat().st_size < 200 * 1024
        assert row["sections"] and all(a <= b for a, b in row["sections"])
        assert row["exercises"]


def test_committed_labels_are_what_the_generator_writes(tmp_path: Path) -> None:
    rows = list(_make_decks().build(tmp_path))
    assert rows == LABELS
    # Markdown is plain text: the committed file must be byte for byte what the specs produce.
    for md in tmp_path.glob("*.md"):
        assert md.read_bytes() == (DECKS / md.name).read_bytes()


@pytest.mark.parametrize("row", LABELS, ids=[row["file"] for row in LABELS])
def test_labelled_deck_parses_with_every_labelled_item_on_its_slide(row: dict[str, Any]) -> None:
    deck = parse_deck(DECKS / row["file"], Settings())
    assert deck.warnings == []
    assert [s.number for s in deck.slides] == list(range(1, len(deck.slides) + 1))
    for first, _last in row["sections"]:
        assert deck.slides[first - 1].title.startswith("Lesson")
    assert row["sections"][-1][1] < len(deck.slides)  # the summary follows the last lesson
    for item in row["exercises"]:
        slide = deck.slides[item["slide"] - 1]
        seen = _norm(f"{slide.title} {slide.text} {slide.notes}")
        assert _norm(item["prompt"]) in seen, (item, slide)
        assert _norm(item["answer"]) in seen, (item, slide)


def test_linear_equations_keeps_tables_figures_and_formulas_in_every_format() -> None:
    for fmt in ("pptx", "md", "docx", "pdf"):
        deck = parse_deck(DECKS / f"linear_equations.{fmt}", Settings())
        assert len(deck.slides) == 50
        figures = [f.alt for s in deck.slides for f in s.figures]
        assert any(alt.startswith("A balance scale with 3 bags") for alt in figures), fmt
        assert len(figures) == 4, fmt
        formulas = {f for s in deck.slides for f in s.formulas}
        assert "a(b + c) = ab + ac" in formulas, fmt
        if fmt != "pdf":  # pypdf has no table extraction (docs/content.md)
            tables = [t for s in deck.slides for t in s.tables]
            assert len(tables) == 3
            assert "| Add a number | Subtracting it |" in tables[0].splitlines(), fmt


def test_pptx_chart_notes_table_and_omml() -> None:
    deck = parse_deck(DECKS / "forces_motion.pptx", Settings())
    chart = deck.slides[18].figures[0]
    assert chart.kind == "chart" and chart.alt.startswith("Line chart of velocity against time")
    assert deck.slides[7].notes == "Answer: Constant velocity, because the resultant force is zero."
    assert deck.slides[9].formulas == ["F = m · a"]
    assert deck.slides[10].tables[0].splitlines()[:2] == ["| Quantity | Symbol | Unit |", "|---|---|---|"]


def test_pptx_without_alt_text_describes_charts_from_their_data_and_warns_on_pictures(tmp_path: Path) -> None:
    from lxml import etree
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "Results"
    data = CategoryChartData()
    data.categories = ["2019", "2020"]
    data.add_series("Pass rate", (0.5, 0.75))
    slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, 0, 0, Inches(4), Inches(3), data)
    slide.shapes.add_picture(io.BytesIO(png_bytes()), Inches(5), Inches(1))
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(5), Inches(3), Inches(1)).text_frame.text = "inside a group"
    frac = (f'<m:oMath xmlns:m="{M_NS}"><m:f><m:num><m:r><m:t>a</m:t></m:r></m:num>'
            '<m:den><m:r><m:t>b+1</m:t></m:r></m:den></m:f></m:oMath>')
    box = slide.shapes.add_textbox(Inches(1), Inches(6), Inches(3), Inches(1)).text_frame
    box.paragraphs[0]._p.append(etree.fromstring(frac))
    prs.save(str(tmp_path / "d.pptx"))
    deck = parse_deck(tmp_path / "d.pptx", Settings())
    (s,) = deck.slides
    assert s.title == "Results" and "inside a group" in s.text
    assert s.figures[0].kind == "chart"
    assert "Pass rate (2019: 0.5, 2020: 0.75)" in s.figures[0].alt
    assert s.formulas == ["(a)/(b+1)"]
    assert deck.warnings == ["slide 1: a picture has no alt text"]


def test_markdown_marp_rules_front_matter_math_code_and_notes(tmp_path: Path) -> None:
    (tmp_path / "m.md").write_text(
        "---\nmarp: true\n---\n\n# Fractions\n\nHalves and quarters.\n\n---\n\n"
        "## Adding\n\n- Same denominator: add the tops $\\frac{1}{4} + \\frac{2}{4}$\n"
        "  - nested point\n\n```math\n\\frac{a}{c} + \\frac{b}{c} = \\frac{a+b}{c}\n```\n\n"
        "```python\nprint(1/4 + 2/4)\n```\n\n![Two quarter circles](q.png)\n\n<!-- Notes: go slowly -->\n\n---\n\n"
        "### A subheading stays on its slide\n\nExercise: Add 1/3 and 1/3. Answer: 2/3\n",
        encoding="utf-8",
    )
    deck = parse_deck(tmp_path / "m.md", Settings())
    assert [s.title for s in deck.slides] == ["Fractions", "Adding", ""]
    adding = deck.slides[1]
    assert adding.formulas == ["\\frac{1}{4} + \\frac{2}{4}", "\\frac{a}{c} + \\frac{b}{c} = \\frac{a+b}{c}"]
    assert "  - nested point" in adding.text.splitlines()
    assert "```python\nprint(1/4 + 2/4)\n```" in adding.text
    assert adding.figures[0].alt == "Two quarter circles" and adding.notes == "go slowly"
    assert "Exercise: Add 1/3 and 1/3. Answer: 2/3" in deck.slides[2].text


def test_docx_headings_tables_pictures_and_omml(tmp_path: Path) -> None:
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml

    doc = Document()
    doc.add_paragraph("Before any heading")
    doc.add_heading("Roots", 1)
    doc.add_heading("Sub-point", 3)
    para = doc.add_paragraph("The formula: ")
    para._p.append(parse_xml(f'<m:oMath xmlns:m="{M_NS}"><m:rad><m:radPr><m:degHide m:val="1"/></m:radPr>'
                             '<m:deg/><m:e><m:r><m:t>x</m:t></m:r></m:e></m:rad></m:oMath>'))
    table = doc.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "x", (0, 1): "√x", (1, 0): "9", (1, 1): "3"}.items():
        table.cell(r, c).text = value
    doc.add_picture(io.BytesIO(png_bytes()))
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    doc.element.body.insert(len(doc.element.body) - 1, parse_xml(  # a content control, before sectPr
        f'<w:sdt xmlns:w="{w}"><w:sdtContent><w:p><w:r><w:t>Inside a content control</w:t></w:r></w:p>'
        "</w:sdtContent></w:sdt>"
    ))
    chapter = doc.styles.add_style("Chapter", WD_STYLE_TYPE.PARAGRAPH)
    chapter.base_style = doc.styles["Heading 1"]
    doc.add_paragraph("Cube roots", style="Chapter")  # a custom heading: its outline level says so
    doc.save(str(tmp_path / "d.docx"))
    deck = parse_deck(tmp_path / "d.docx", Settings())
    assert [s.title for s in deck.slides] == ["", "Roots", "Cube roots"]
    roots = deck.slides[1]
    assert roots.text.splitlines() == ["Sub-point", "The formula:", "Inside a content control"]
    assert roots.formulas == ["sqrt(x)"]
    assert roots.tables == ["| x | √x |\n|---|---|\n| 9 | 3 |"]
    assert deck.warnings == ["section 2: a picture has no alt text"]


def test_pdf_title_from_largest_font_captions_and_owner_password(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 10, "Unit 4 - page 1", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 28)
    pdf.cell(0, 14, "Pythagoras", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    lines = ("a^2 + b^2 = c^2", "Figure 1: A right triangle with legs a and b.", "Exercise: a = 3, b = 4. Answer: 5")
    for line in lines:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "plain.pdf"))
    writer = PdfWriter(clone_from=PdfReader(tmp_path / "plain.pdf"))
    writer.encrypt(user_password="", owner_password="teacher", algorithm="RC4-128")
    writer.write(tmp_path / "restricted.pdf")
    for name in ("plain.pdf", "restricted.pdf"):
        (s,) = parse_deck(tmp_path / name, Settings()).slides
        assert s.title == "Pythagoras"
        assert s.text.splitlines()[0] == "Unit 4 - page 1"
        assert s.formulas == ["a^2 + b^2 = c^2"]
        assert [f.alt for f in s.figures] == ["A right triangle with legs a and b."]


@pytest.mark.parametrize(
    ("line", "formula"),
    [
        ("n = m / M", "n = m / M"),
        ("- F = m · a", "F = m · a"),
        ("2H2 + O2 -> 2H2O", "2H2 + O2 -> 2H2O"),
        ("R_{total} = R_1 + R_2", "R_{total} = R_1 + R_2"),
        ("Step 1: Subtract 5 from both sides: 3x = 15.", ""),
        ("Answer: x = 5", ""),
        ("A solution makes the equation true.", ""),
    ],
)
def test_plain_formula_keeps_equations_not_prose(line: str, formula: str) -> None:
    assert plain_formula(line) == formula


def test_markdown_led_by_headings_keeps_them_despite_a_decorative_rule(tmp_path: Path) -> None:
    slides = "".join(f"## Slide {n}\n\nExercise: Solve x + {n} = {2 * n}. Answer: x = {n}\n\n" for n in range(1, 7))
    (tmp_path / "h.md").write_text("# Deck\n\n---\n\n" + slides, encoding="utf-8")
    deck = parse_deck(tmp_path / "h.md", Settings())
    assert [s.title for s in deck.slides] == ["Deck", *(f"Slide {n}" for n in range(1, 7))]
