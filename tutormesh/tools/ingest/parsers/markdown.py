"""Markdown decks (markdown-it-py): a slide per level-1/2 heading, or per ``---`` rule (Marp style).

Math (``$...$``, ``$$...$$``, fences tagged math/latex/tex) is kept as formulas; other code fences
stay in the text verbatim; ``<!-- ... -->`` comments are speaker notes; images become figures.
"""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from tutormesh.core.errors import IngestError
from tutormesh.core.settings import Settings
from tutormesh.tools.ingest.draft import Figure
from tutormesh.tools.ingest.parsers.base import Deadline, Parsed, SlideBuilder, check_count, plain_formula

_MATH_FENCES = {"math", "latex", "tex"}
# markdown-it-py's inline parsing is quadratic on crafted runs ("[[[[", "![a![a", one 400 KB
# paragraph): paragraphs are capped and the parse's deadline is checked between them.
MAX_PARAGRAPH_CHARS = 20_000


def _budgeted_inline(state: StateCore) -> None:
    """markdown-it's core "inline" rule, with the paragraph cap and the deadline between paragraphs."""
    deadline: Deadline = state.env["deadline"]
    for token in state.tokens:
        if token.type == "inline":
            if len(token.content) > MAX_PARAGRAPH_CHARS:
                line = token.map[0] + 1 if token.map else 0
                raise IngestError(
                    f"the paragraph at line {line} has {len(token.content):,} characters; "
                    f"at most {MAX_PARAGRAPH_CHARS:,} are accepted: split it"
                )
            deadline.check(f"line {token.map[0] + 1 if token.map else 0}")
            token.children = token.children or []
            state.md.inline.parse(token.content, state.md, state.env, token.children)


_MD = MarkdownIt("commonmark").enable("table").use(front_matter_plugin).use(dollarmath_plugin)
_MD.core.ruler.at("inline", _budgeted_inline)


def parse(path: Path, settings: Settings) -> Parsed:
    """Read a UTF-8 Markdown deck; refuse one that is not text or has too many slides."""
    size = path.stat().st_size
    if size > settings.ingest_max_markdown_bytes:
        raise IngestError(
            f"the Markdown file is {size >> 10} KB; at most {settings.ingest_max_markdown_bytes >> 10} KB are "
            "accepted (TUTORMESH_INGEST_MAX_MARKDOWN_BYTES)"
        )
    try:
        source = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"the Markdown file is not UTF-8 text (byte {exc.start})") from None
    tokens = _MD.parse(source, {"deadline": Deadline(settings)})
    # Slides split at rules (Marp, reveal.js) when rules are about as many as headings; a deck led by
    # headings may still hold a decorative rule or two.
    rules = sum(1 for t in tokens if t.type == "hr" and t.level == 0)
    by_rule = rules > 0 and rules >= sum(1 for t in tokens if _is_slide_heading(t)) // 2
    check_count(_count(tokens, by_rule), settings.ingest_max_pages, "slide")
    lines = source.splitlines()
    out = Parsed()
    slide = SlideBuilder(1)
    items: list[str] = []  # list markers of the open lists, innermost last
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        starts = (tok.type == "hr" and tok.level == 0) if by_rule else _is_slide_heading(tok)
        if starts and _has_content(slide):
            out.slides.append(slide.build())
            slide = SlideBuilder(len(out.slides) + 1)
        if tok.type == "heading_open":
            text, figures = _inline(tokens[i + 1], slide)
            slide.figures += figures
            if _is_slide_heading(tok) and not slide.title:
                slide.title = text
            else:
                slide.lines.append(text)
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            items.append("-" if tok.type == "bullet_list_open" else "1.")
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            items.pop()
        elif tok.type == "inline":
            text, figures = _inline(tok, slide)
            slide.figures += figures
            if text:
                marker = f"{'  ' * (len(items) - 1)}{items[-1]} " if items else ""
                slide.lines.append(marker + text)
        elif tok.type == "math_block" or (tok.type == "fence" and tok.info.strip().lower() in _MATH_FENCES):
            slide.formulas.append(tok.content.strip())
        elif tok.type in ("fence", "code_block"):
            slide.lines.append(f"```{tok.info.strip()}\n{tok.content.rstrip()}\n```")
        elif tok.type == "table_open" and tok.map:
            slide.tables.append("\n".join(lines[tok.map[0] : tok.map[1]]).strip())
            while tokens[i].type != "table_close":
                i += 1
        elif tok.type == "html_block" and tok.content.lstrip().startswith("<!--"):
            note = tok.content.strip().removeprefix("<!--").removesuffix("-->").strip()
            slide.notes.append(note.removeprefix("Notes:").strip())
        i += 1
    if _has_content(slide) or not out.slides:
        out.slides.append(slide.build())
    return out


def _is_slide_heading(tok: Token) -> bool:
    return tok.type == "heading_open" and tok.tag in ("h1", "h2") and tok.level == 0


def _count(tokens: list[Token], by_rule: bool) -> int:
    if by_rule:
        return 1 + sum(1 for t in tokens if t.type == "hr" and t.level == 0)
    return max(1, sum(1 for t in tokens if _is_slide_heading(t)))


def _has_content(slide: SlideBuilder) -> bool:
    return bool(slide.title or slide.lines or slide.tables or slide.formulas or slide.figures or slide.notes)


def _inline(tok: Token, slide: SlideBuilder) -> tuple[str, list[Figure]]:
    """Return an inline run as text (math kept as $...$, images left out) and its images as figures."""
    parts: list[str] = []
    figures: list[Figure] = []
    for child in tok.children or []:
        if child.type == "image":
            alt = child.content.strip()
            figures.append(Figure(alt=alt or str(child.attrs.get("src", "")), kind="picture"))
        elif child.type == "math_inline":
            parts.append(f"${child.content}$")
            slide.formulas.append(child.content.strip())
        elif child.type == "code_inline":
            parts.append(f"`{child.content}`")
            if formula := plain_formula(child.content):
                slide.formulas.append(formula)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "text":
            parts.append(child.content)
    return "".join(parts).strip(), figures
