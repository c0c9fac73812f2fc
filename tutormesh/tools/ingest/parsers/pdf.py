"""PDF decks (pypdf): one slide per page, the title from the largest font, alt text from the tags."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from tutormesh.core.errors import IngestError
from tutormesh.core.settings import Settings
from tutormesh.tools.ingest.draft import Figure
from tutormesh.tools.ingest.parsers.base import Deadline, Parsed, SlideBuilder, check_count

_CAPTION = re.compile(r"^(?:Figure|Fig\.)\s*\d*\s*[:.]\s+(.+)$", re.IGNORECASE)
# A hostile structure tree can be huge or cyclic: stop walking it after this many nodes.
_MAX_STRUCT_NODES = 50_000


def parse(path: Path, settings: Settings) -> Parsed:
    """Read a PDF deck; refuse one that is password-protected, a decompression bomb or too long."""
    try:
        return _parse(path, settings)
    except LimitReachedError:  # pypdf caps what one stream may inflate to (75 MB in pypdf 7)
        raise IngestError("the PDF has a stream that inflates past pypdf's safety limit: refused") from None


def _parse(path: Path, settings: Settings) -> Parsed:
    reader = PdfReader(path)
    if reader.is_encrypted and not _opens_without_password(reader):
        raise IngestError("the PDF is password-protected: remove the password and upload it again")
    check_count(len(reader.pages), settings.ingest_max_pages, "page")
    alts = _figure_alts(reader)
    out = Parsed()
    inflated, deadline = 0, Deadline(settings)
    for number, page in enumerate(reader.pages, 1):
        deadline.check(f"page {number}")
        # Inflate the page's content here: extract_text would swallow pypdf's limit and return "".
        contents = page.get_contents()
        inflated += len(contents.get_data()) if contents is not None else 0
        if inflated > settings.ingest_max_inflated_bytes:
            raise IngestError(
                f"the PDF's pages inflate past {settings.ingest_max_inflated_bytes >> 20} MB "
                "(TUTORMESH_INGEST_MAX_INFLATED_BYTES): refused"
            )
        slide = SlideBuilder(number)
        slide.title, body = _title_and_body(page)
        for line in body.splitlines():
            if caption := _CAPTION.match(line.strip()):
                slide.figures.append(Figure(alt=caption.group(1).strip()))
            slide.lines.append(line.rstrip())
        tagged = alts.get(number, [])
        slide.figures[:0] = [Figure(alt=alt) for alt in tagged]
        if (slide.title or body.strip()) and _image_count(page) > len(slide.figures):  # scanned: "no text"
            out.warnings.append(f"page {number}: a picture has no alt text")
        out.slides.append(slide.build())
    return out


def _opens_without_password(reader: PdfReader) -> bool:
    """True for a PDF encrypted only with an owner password (restrictions, no open password)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # a malformed encryption dictionary or an unknown algorithm
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
    """Return the text without the title: the words that open the page, else a line equal to it."""
    pos = 0
    for word in title.split():
        found = text.find(word, pos)
        if found < 0 or text[pos:found].strip():
            lines = text.splitlines()
            if title in lines:
                lines.remove(title)
            return "\n".join(lines)
        pos = found + len(word)
    return text[pos:].lstrip()


def _figure_alts(reader: PdfReader) -> dict[int, list[str]]:
    """Return the alt text of tagged /Figure elements by page number (tagged PDFs only).

    An element without its own /Pg is on its parent's page.
    """
    root: Any = reader.root_object
    tree: Any = root.get("/StructTreeRoot")
    if tree is None or "/K" not in tree.get_object():
        return {}
    pages = {p.indirect_reference.idnum: n for n, p in enumerate(reader.pages, 1) if p.indirect_reference}
    found: dict[int, list[str]] = {}
    stack: list[tuple[Any, int]] = [(tree.get_object().raw_get("/K"), 0)]
    seen: set[int] = set()
    visits = 0
    while stack and visits < _MAX_STRUCT_NODES:
        node, page = stack.pop()
        visits += 1
        if isinstance(node, IndirectObject):
            if node.idnum in seen:
                continue
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, ArrayObject):
            stack.extend((child, page) for child in reversed(node))
        elif isinstance(node, DictionaryObject):
            ref = node.raw_get("/Pg") if "/Pg" in node else None
            page = pages.get(ref.idnum, page) if isinstance(ref, IndirectObject) else page
            alt = node.get("/Alt")
            if node.get("/S") == "/Figure" and alt and page:
                found.setdefault(page, []).append(str(alt).strip())
            if "/K" in node:
                stack.append((node.raw_get("/K"), page))
    return found


def _image_count(page: Any) -> int:
    """Count the image XObjects a page draws directly (not inside forms)."""
    try:
        xobjects = page["/Resources"]["/XObject"].get_object()
        return sum(1 for ref in xobjects.values() if ref.get_object().get("/Subtype") == "/Image")
    except (KeyError, TypeError, AttributeError):
        return 0
