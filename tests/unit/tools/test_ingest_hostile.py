"""Hostile and broken decks are refused with a reason (IngestError, HTTP 422) or warned about, never a crash."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image

from tutormesh.core.errors import IngestError
from tutormesh.core.settings import Settings
from tutormesh.server.errors import error_response
from tutormesh.tools.ingest.parse import parse_deck

DECKS = Path(__file__).resolve().parents[3] / "tutormesh" / "evals" / "datasets" / "decks"
FORMATS = ("pdf", "pptx", "md", "docx")


def refused(path: Path, settings: Settings | None = None) -> str:
    with pytest.raises(IngestError) as caught:
        parse_deck(path, settings or Settings())
    return caught.value.message


def copy(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


def png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (300, 400), 200).save(out, format="PNG")
    return out.getvalue()


def scanned_pdf(path: Path, text_pages: int, image_pages: int) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=14)
    for _ in range(text_pages):
        pdf.add_page()
        pdf.cell(0, 10, "Exercise: Solve 3x + 5 = 20. Answer: x = 5")
    for _ in range(image_pages):
        pdf.add_page()
        pdf.image(io.BytesIO(png()), x=10, y=10, w=150)
    pdf.output(str(path))
    return path


def test_ingest_error_is_a_422_with_its_reason() -> None:
    response = error_response(IngestError("the PDF is password-protected"))
    assert response.status_code == 422
    body = json.loads(bytes(response.body))
    assert body == {"error": {"code": "ingest_refused", "message": "the PDF is password-protected"}}


def test_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DECKS / "moles_stoichiometry.pdf"))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="RC4-128")
    writer.write(tmp_path / "locked.pdf")
    assert "password-protected" in refused(tmp_path / "locked.pdf")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [0.02, 0.5, 0.97])
def test_truncated_decks_are_refused(tmp_path: Path, fmt: str, keep: float) -> None:
    data = (DECKS / f"linear_equations.{fmt}").read_bytes()
    path = copy(tmp_path, f"cut.{fmt}", data[: int(len(data) * keep)])
    if fmt == "md":  # cut text is still text: parsed, never a crash
        assert parse_deck(path, Settings()).slides
        return
    message = refused(path)
    assert "damaged" in message or "truncated" in message


@pytest.mark.parametrize("fmt", ("pdf", "pptx", "docx"))
def test_garbage_with_a_deck_name_is_refused(tmp_path: Path, fmt: str) -> None:
    noise = bytes((i * 7919) % 251 for i in range(5000))
    assert "not a deck" in refused(copy(tmp_path, f"noise.{fmt}", noise))


def test_docx_with_broken_xml_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(DECKS / "beam_statics.docx") as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = b"<w:document><unclosed" if info.filename == "word/document.xml" else src.read(info)
            dst.writestr(info.filename, data)
    assert "could not be read as a Word document" in refused(copy(tmp_path, "broken.docx", out.getvalue()))


def test_png_named_pdf_is_refused_for_what_it_is(tmp_path: Path) -> None:
    message = refused(copy(tmp_path, "slides.pdf", png()))
    assert message == "the file is named .pdf but its content is a PNG image"


@pytest.mark.parametrize(
    ("source", "name", "actual"),
    [
        ("linear_equations.pdf", "deck.pptx", "a PDF"),
        ("linear_equations.pptx", "deck.docx", "a PowerPoint deck"),
        ("linear_equations.docx", "deck.pdf", "a Word document"),
        ("linear_equations.md", "deck.pdf", "Markdown text"),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(
    tmp_path: Path, source: str, name: str, actual: str
) -> None:
    path = copy(tmp_path, name, (DECKS / source).read_bytes())
    assert refused(path).endswith(f"its content is {actual}")


def test_plain_zip_and_legacy_office_named_pptx_are_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("notes.txt", "hello")
    assert "not a PowerPoint or Word file" in refused(copy(tmp_path, "a.pptx", out.getvalue()))
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert "password-protected PPTX/DOCX" in refused(copy(tmp_path, "b.pptx", ole))


def test_unknown_extension_empty_file_and_non_utf8_markdown_are_refused(tmp_path: Path) -> None:
    assert "unsupported file type '.key'" in refused(copy(tmp_path, "talk.key", b"x"))
    assert refused(copy(tmp_path, "empty.md", b"")) == "the file is empty"
    assert "not UTF-8 text" in refused(copy(tmp_path, "latin.md", "# Équations\n".encode("latin-1")))


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path, fmt: str) -> None:
    message = refused(DECKS / f"linear_equations.{fmt}", Settings(ingest_max_bytes=2000))
    assert message.startswith("the file is ") and message.endswith("the limit is 2 KB (TUTORMESH_INGEST_MAX_BYTES)")


@pytest.mark.parametrize(("fmt", "unit"), [("pdf", "page"), ("pptx", "slide"), ("md", "slide"), ("docx", "section")])
def test_too_many_pages_is_refused(fmt: str, unit: str) -> None:
    message = refused(DECKS / f"linear_equations.{fmt}", Settings(ingest_max_pages=20))
    assert message.startswith("the deck has ") and f"{unit}s; at most 20 are accepted" in message
    assert parse_deck(DECKS / f"linear_equations.{fmt}", Settings(ingest_max_pages=50)).slides


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _declare_size(blob: bytes, member: str, size: int) -> bytes:
    """Patch the uncompressed size a zip declares for member (local header and central directory)."""
    data = bytearray(blob)
    name = member.encode()
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        if data[local + 30 : local + 30 + len(name)] == name:
            struct.pack_into("<I", data, local + 22, size)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        if data[central + 46 : central + 46 + len(name)] == name:
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


PPTX_SKELETON = {"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<not-parsed-if-refused-first/>"}


def test_zip_bomb_pptx_is_refused_by_its_declared_size_before_extraction(tmp_path: Path) -> None:
    # 3.5 GB declared, a few KB on disk: only the directory is read, nothing is inflated.
    blob = _zip_bytes({**PPTX_SKELETON, "ppt/media/image1.png": b"\x00" * 100_000})
    bomb = copy(tmp_path, "bomb.pptx", _declare_size(blob, "ppt/media/image1.png", 3_500_000_000))
    assert bomb.stat().st_size < 10_000
    message = refused(bomb)
    assert "would unpack to 3337.9 MB" in message and "TUTORMESH_INGEST_MAX_INFLATED_BYTES" in message


def test_zip_bomb_docx_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    skeleton = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not-parsed/>"}
    bomb = copy(tmp_path, "bomb.docx", _zip_bytes({**skeleton, "word/media/a.bin": b"\x00" * 30_000_000}))
    assert bomb.stat().st_size < 100_000
    assert "refused as a zip bomb" in refused(bomb)


def test_zip_that_lies_small_about_a_member_is_refused_as_damaged(tmp_path: Path) -> None:
    # Declared 10 bytes, really 5 MB: zipfile stops at the declared size and the CRC fails.
    with zipfile.ZipFile(DECKS / "forces_motion.pptx") as src:
        members = {info.filename: src.read(info) for info in src.infolist()}
    members["ppt/slides/slide1.xml"] = members["ppt/slides/slide1.xml"] + b" " * 5_000_000
    liar = _declare_size(_zip_bytes(members), "ppt/slides/slide1.xml", 10)
    assert "damaged" in refused(copy(tmp_path, "liar.pptx", liar))


def test_pptx_with_macros_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(DECKS / "forces_motion.pptx") as src:
        members = {info.filename: src.read(info) for info in src.infolist()}
    macros = copy(tmp_path, "macros.pptx", _zip_bytes({**members, "ppt/vbaProject.bin": b"\xd0\xcf\x11\xe0"}))
    assert refused(macros).startswith("the file contains macros")


def test_zip_with_too_many_members_is_refused(tmp_path: Path) -> None:
    message = refused(DECKS / "forces_motion.pptx", Settings(ingest_max_zip_entries=20))
    assert "members; at most 20 are accepted" in message


def test_scanned_page_is_a_warning_and_a_scanned_deck_is_refused(tmp_path: Path) -> None:
    deck = parse_deck(scanned_pdf(tmp_path / "mixed.pdf", text_pages=2, image_pages=1), Settings())
    assert deck.warnings == ["page 3 has no text (scanned?)"]
    assert "Answer: x = 5" in deck.slides[0].title  # a one-line page: its line is the title
    message = refused(scanned_pdf(tmp_path / "scan.pdf", text_pages=0, image_pages=3))
    assert message == "no page of the deck has any text (scanned pages need OCR before upload)"


def test_empty_slides_are_warned_about_in_pptx(tmp_path: Path) -> None:
    from pptx import Presentation

    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[6])
    prs.slides.add_slide(prs.slide_layouts[5]).shapes.title.text = "Only a title"
    prs.save(str(tmp_path / "d.pptx"))
    assert parse_deck(tmp_path / "d.pptx", Settings()).warnings == ["slide 1 has no text"]


def flate_bomb_pdf(path: Path, inflated_bytes: int) -> Path:
    """Write a one-page PDF whose content stream inflates to inflated_bytes of spaces."""
    import zlib

    packer = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    stream = b"".join(packer.compress(chunk) for _ in range(inflated_bytes >> 20)) + packer.flush()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<<>>>>",
        b"<</Length %d/Filter/FlateDecode>>stream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_pdf_decompression_bomb_is_refused_within_pypdf_limits(tmp_path: Path) -> None:
    bomb = flate_bomb_pdf(tmp_path / "bomb.pdf", 120 << 20)
    assert bomb.stat().st_size < 200_000
    assert "inflates past pypdf's safety limit" in refused(bomb)


def test_pdf_pages_inflating_past_the_setting_are_refused(tmp_path: Path) -> None:
    bomb = flate_bomb_pdf(tmp_path / "big.pdf", 12 << 20)  # under pypdf's own cap, over ours
    message = refused(bomb, Settings(ingest_max_inflated_bytes=8 << 20))
    assert message == "the PDF's pages inflate past 8 MB (TUTORMESH_INGEST_MAX_INFLATED_BYTES): refused"


def test_markdown_over_its_size_limit_is_refused(tmp_path: Path) -> None:
    message = refused(DECKS / "linear_equations.md", Settings(ingest_max_markdown_bytes=4096))
    assert message == "the Markdown file is 7 KB; at most 4 KB are accepted (TUTORMESH_INGEST_MAX_MARKDOWN_BYTES)"


def test_quadratic_markdown_stops_at_the_paragraph_cap_or_the_deadline(tmp_path: Path) -> None:
    from tutormesh.tools.ingest.parsers.markdown import MAX_PARAGRAPH_CHARS

    long = copy(tmp_path, "long.md", b"# Title\n\n" + b"[" * (MAX_PARAGRAPH_CHARS + 1))
    assert refused(long) == "the paragraph at line 3 has 20,001 characters; at most 20,000 are accepted: split it"
    # Many paragraphs just under the cap, each slow to parse: the deadline is checked between them.
    slow = copy(tmp_path, "slow.md", b"# Title\n\n" + b"\n\n".join([b"![a" * 2000] * 60))
    message = refused(slow, Settings(ingest_max_parse_seconds=0.5))
    assert message.startswith("reading the deck took longer than 0.5 s (stopped at line ")


def test_every_parser_checks_the_deadline(tmp_path: Path) -> None:
    for fmt, unit in (("pdf", "page"), ("pptx", "slide"), ("docx", "section"), ("md", "line")):
        message = refused(DECKS / f"linear_equations.{fmt}", Settings(ingest_max_parse_seconds=0))
        assert f"(stopped at {unit} " in message and "TUTORMESH_INGEST_MAX_PARSE_SECONDS" in message


@pytest.mark.parametrize(
    "name", ["moles_stoichiometry.pdf", "forces_motion.pptx", "ohms_law_circuits.md", "beam_statics.docx"]
)
def test_randomly_damaged_decks_parse_or_are_refused_never_crash(tmp_path: Path, name: str) -> None:
    import random

    original = (DECKS / name).read_bytes()
    outcomes = set()
    for seed in range(12):
        rng = random.Random(seed)
        data = bytearray(original)
        for _ in range(1 + seed):
            data[rng.randrange(64, len(data))] = rng.randrange(256)  # keep the magic bytes
        path = copy(tmp_path, f"{seed}{Path(name).suffix}", bytes(data))
        try:
            outcomes.add(type(parse_deck(path, Settings())).__name__)
        except IngestError as exc:
            assert exc.status == 422 and exc.message
            outcomes.add("IngestError")
    assert outcomes <= {"Deck", "IngestError"}


def test_xml_entity_bomb_in_a_docx_is_not_expanded(tmp_path: Path) -> None:
    import time

    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    document = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{lol}]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        "<w:p><w:r><w:t>Laughs &l9;</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(DECKS / "beam_statics.docx") as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, document if info.filename == "word/document.xml" else src.read(info))
    start = time.perf_counter()
    try:
        text = parse_deck(copy(tmp_path, "lol.docx", out.getvalue()), Settings()).slides[0].text
    except IngestError:
        text = ""
    assert time.perf_counter() - start < 5
    assert "lol" * 100 not in text  # 10^9 "lol"s were never built
