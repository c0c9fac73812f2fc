"""PDF decks (pypdf): one slide per page, the title from the largest font, alt text from the tags."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from tutormesh.core.errors import IngestError
from tutormesh.tools.ingest.draft import Figure
from tutormesh.tools.ingest.parsers.base import Parsed, SlideBuilder, check_count

_CAPTION = re.compile(r"^(?:Figure|Fig\.)\s*\d*\s*[:.]\s+(.+)$", re.IGNORECASE)
# A hostile structure tree can be huge or cyclic: stop walking it after this many nodes.
_MAX_STRUCT_NODES = 50_000


def parse(path: Path, max_pages: int) -> Parsed:
    """Read a PDF deck; refuse one that is password-protected or has too many pages."""
    reader = PdfReader(path)
    if reader.is_encrypted and not _opens_without_password(reader):
        raise IngestError("the PDF is password-protected: remove the password and upload it again")
    check_count(len(reader.pages), max_pages, "page")
    alts = _figure_alts(reader)
    out = Parsed()
    for number, page in enumerate(reader.pages, 1):
        slide = SlideBuilder(number)
        slide.title, body = _title_and_body(page)
        for line in body.splitlines():
            if caption := _CAPTION.match(line.strip()):
                slide.figures.append(Figure(alt=caption.group(1).strip()))
            slide.lines.append(line.rstrip())
        tagged = alts.get(number, [])
        slide.figures[:0] = [Figure(alt=alt) for alt in tagged]
        if _image_count(page) > len(slide.figures):
            out.warnings.append(f"page {number}: a picture has no alt text")
        out.slides.append(slide.build())
    return out


def _opens_without_password(reader: PdfReader) -> bool:
    """True for a PDF encrypted only with an owner password (restrictions, no open password)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # AES without a crypto library, or a malformed encryption dictionary
        return False


def _title_and_body(page: Any) -> tuple[str, str]:
    """Split a page's text into its title (the run of the largest font) and the rest."""
    sized: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            sized.append((text, abs(size * (tm[3] or 1) * (cm[3] or 1))))

    text: str = page.extract_text(visitor_text=visit) or ""
    if not sized:
        return "", text
    biggest = max(size for _, size in sized)
    typical = statistics.median(size for _, size in sized)
    if biggest < 1.2 * typical:  # one size throughout: the first line is the title
        first, _, rest = text.strip().partition("\n")
        return first.strip(), rest
    title = " ".join(" ".join(t.split()) for t, size in sized if size >= 0.95 * biggest)
    return title, _after_title(text.strip(), title)


def _after_title(text: str, title: str) -> str:
    """Return the text after the title's words when the title opens the page, else the whole text."""
    pos = 0
    for word in title.split():
        found = text.find(word, pos)
        if found < 0 or text[pos:found].strip():
            return text
        pos = found + len(word)
    return text[pos:].lstrip()


def _figure_alts(reader: PdfReader) -> dict[int, list[str]]:
    """Return the alt text of tagged /Figure elements by page number (tagged PDFs only)."""
    root: Any = reader.root_object
    tree: Any = root.get("/StructTreeRoot")
    if tree is None or "/K" not in tree.get_object():
        return {}
    pages = {p.indirect_reference.idnum: n for n, p in enumerate(reader.pages, 1) if p.indirect_reference}
    found: dict[int, list[str]] = {}
    stack: list[Any] = [tree.get_object().raw_get("/K")]
    seen: set[int] = set()
    while stack and len(seen) < _MAX_STRUCT_NODES:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            if node.idnum in seen:
                continue
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, ArrayObject):
            stack.extend(reversed(node))
        elif isinstance(node, DictionaryObject):
            alt, page_ref = node.get("/Alt"), node.raw_get("/Pg") if "/Pg" in node else None
            if node.get("/S") == "/Figure" and alt and isinstance(page_ref, IndirectObject):
                found.setdefault(pages.get(page_ref.idnum, 0), []).append(str(alt).strip())
            if "/K" in node:
                stack.append(node.raw_get("/K"))
    return found


def _image_count(page: Any) -> int:
    """Count the image XObjects a page draws directly (not inside forms)."""
    try:
        xobjects = page["/Resources"]["/XObject"].get_object()
        return sum(1 for ref in xobjects.values() if ref.get_object().get("/Subtype") == "/Image")
    except (KeyError, TypeError, AttributeError):
        return 0
