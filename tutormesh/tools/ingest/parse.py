"""Turn an uploaded deck file into a `Deck`, or refuse it with a reason (`IngestError`, HTTP 422).

Checks run cheapest first and before any parser sees the file: the size, the content against the
file name (magic bytes), and for PPTX/DOCX the zip's declared sizes and compression ratios (a zip
bomb is refused before a byte is inflated). Pages without text are warnings; a deck with no text at
all is refused. See docs/content.md "Parsing".
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

from tutormesh.core.errors import IngestError
from tutormesh.core.settings import Settings, get_settings
from tutormesh.tools.ingest.draft import Deck, DeckFormat, Slide
from tutormesh.tools.ingest.parsers import docx, markdown, pdf, pptx
from tutormesh.tools.ingest.parsers.base import Parsed

EXTENSIONS: dict[str, DeckFormat] = {".pdf": "pdf", ".pptx": "pptx", ".md": "md", ".markdown": "md", ".docx": "docx"}
_PARSERS: dict[DeckFormat, Callable[[Path, Settings], Parsed]] = {
    "pdf": pdf.parse,
    "pptx": pptx.parse,
    "md": markdown.parse,
    "docx": docx.parse,
}
_NAMES: dict[DeckFormat, str] = {
    "pdf": "a PDF",
    "pptx": "a PowerPoint deck",
    "md": "Markdown text",
    "docx": "a Word document",
}
# Leading bytes of formats people upload by mistake, named in the refusal.
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP image, WAV or AVI)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.ppt/.doc) or a password-protected PPTX/DOCX"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"{\\rtf", "an RTF document"),
]
# Members under 1 MiB are never called a bomb, whatever their ratio: small repetitive XML parts
# compress well (our decks' best: 32 to 1, python-docx's stylesWithEffects.xml).
_RATIO_MIN_BYTES = 1 << 20
_CHUNK = 1 << 20


def parse_deck(path: Path, settings: Settings | None = None) -> Deck:
    """Parse a PDF, PPTX, Markdown or DOCX deck; raise `IngestError` with the reason if refused."""
    settings = settings or get_settings()
    expected = EXTENSIONS.get(path.suffix.lower())
    if expected is None:
        kind = repr(path.suffix) if path.suffix else "(no extension)"
        raise IngestError(f"unsupported file type {kind}: upload a PDF, PPTX, DOCX or Markdown deck")
    try:
        size = path.stat().st_size
    except OSError:
        raise IngestError("the uploaded file could not be read") from None
    if size > settings.ingest_max_bytes:
        raise IngestError(
            f"the file is {_size(size)}; the limit is {_size(settings.ingest_max_bytes)} (TUTORMESH_INGEST_MAX_BYTES)"
        )
    if size == 0:
        raise IngestError("the file is empty")
    actual = sniff(path)
    if actual != expected:
        raise IngestError(f"the file is named {path.suffix} but its content is {_describe(path, actual)}")
    if actual in ("pptx", "docx"):
        check_zip(path, settings)
    try:
        parsed = _PARSERS[actual](path, settings)
    except IngestError:
        raise
    except Exception as exc:  # hostile input: any library failure means "cannot read this file"
        reason = f"the file could not be read as {_NAMES[actual]}: it looks damaged ({type(exc).__name__})"
        raise IngestError(reason) from exc
    return _deck(path, actual, parsed)


def sniff(path: Path) -> DeckFormat | None:
    """Return the deck format the file's content shows (magic bytes, zip members, text), or None."""
    with path.open("rb") as f:
        head = f.read(8192)
    if b"%PDF-" in head[:1024]:  # readers accept a little junk before the header
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        infos = _zip_directory(path)
        names = {info.filename for info in infos or []}
        if "ppt/presentation.xml" in names:
            return "pptx"
        if "word/document.xml" in names:
            return "docx"
        return None
    if any(head.startswith(magic) for magic, _ in _MAGIC) or b"\x00" in head:
        return None
    return "md"  # text; the Markdown parser refuses what is not UTF-8, saying where


def check_zip(path: Path, settings: Settings) -> None:
    """Refuse a PPTX/DOCX with macros, or whose zip declares too many members, bytes or too high a ratio.

    Python's zipfile never inflates a member past the size its directory declares (it stops, and a
    wrong CRC fails), so checking the declared sizes bounds what the parsers can inflate.
    """
    infos = _zip_directory(path)
    if infos is None:
        raise IngestError("the file is a damaged zip archive (PPTX and DOCX are zips)")
    if any(info.filename.endswith("vbaProject.bin") for info in infos):
        raise IngestError("the file contains macros (a .pptm or .docm renamed): save it as .pptx or .docx without them")
    if len(infos) > settings.ingest_max_zip_entries:
        raise IngestError(
            f"the archive has {len(infos)} members; at most {settings.ingest_max_zip_entries} are accepted "
            "(TUTORMESH_INGEST_MAX_ZIP_ENTRIES)"
        )
    total = sum(info.file_size for info in infos)
    if total > settings.ingest_max_inflated_bytes:
        raise IngestError(
            f"the archive would unpack to {_size(total)}; the limit is "
            f"{_size(settings.ingest_max_inflated_bytes)} (TUTORMESH_INGEST_MAX_INFLATED_BYTES)"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= _RATIO_MIN_BYTES and ratio > settings.ingest_max_zip_ratio:
            raise IngestError(
                f"the archive member {info.filename[:80]!r} is compressed {ratio:.0f} to 1, above the limit "
                f"of {settings.ingest_max_zip_ratio:.0f} (TUTORMESH_INGEST_MAX_ZIP_RATIO): refused as a zip bomb"
            )


def _zip_directory(path: Path) -> list[zipfile.ZipInfo] | None:
    """Return a zip's members as its central directory declares them (nothing is inflated), or None."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.infolist()
    except Exception:  # damaged zips raise BadZipFile, NotImplementedError, EOFError, struct.error...
        return None


def _describe(path: Path, actual: DeckFormat | None) -> str:
    """Name what the file really is, for the refusal message."""
    if actual is not None:
        return _NAMES[actual]
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(b"PK\x03\x04"):
        if _zip_directory(path) is None:
            return "a damaged or truncated zip archive (PPTX and DOCX are zips)"
        return "a zip archive that is not a PowerPoint or Word file"
    return next((name for magic, name in _MAGIC if head.startswith(magic)), "not a deck (unrecognised binary data)")


def _deck(path: Path, fmt: DeckFormat, parsed: Parsed) -> Deck:
    """Build the Deck: warn about each page without text, refuse a deck with none."""
    unit = "page" if fmt == "pdf" else "slide" if fmt == "pptx" else "section"
    empty = [s.number for s in parsed.slides if not _has_text(s)]
    if not parsed.slides or len(empty) == len(parsed.slides):
        hint = " (scanned pages need OCR before upload)" if fmt == "pdf" else ""
        raise IngestError(f"no {unit} of the deck has any text{hint}")
    warnings = [f"{unit} {n} has no text" + (" (scanned?)" if fmt == "pdf" else "") for n in empty]
    return Deck(
        file_name=path.name,
        sha256=_sha256(path),
        format=fmt,
        slides=parsed.slides,
        warnings=[*warnings, *parsed.warnings],
    )


def _has_text(slide: Slide) -> bool:
    return bool(
        slide.title or slide.text or slide.notes or slide.tables or slide.formulas or any(f.alt for f in slide.figures)
    )


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
