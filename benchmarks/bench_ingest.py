"""Benchmark deck parsing: time per slide and peak memory per format, and PDF libraries side by side.

Run `python benchmarks/bench_ingest.py` for `parse_deck` on the 50-slide labelled deck in each format
(tutormesh/evals/datasets/decks/linear_equations.*). Each format runs in a fresh child process:
``repeats`` timed parses after one warm-up, the tracemalloc peak of one parse, and the child's peak
RSS (ru_maxrss) after its imports and after parsing.

`--compare-pdf` extracts every labelled PDF deck with pypdf, pdfplumber and markitdown (the last two
only if importable; e.g. `pip install --target /tmp/cmp pdfplumber 'markitdown[pdf]'` and pass
`--lib-path /tmp/cmp`) and scores what a parser needs: per-page text, labelled worked examples and
exercises found (prompt and answer on their page), tables recovered cell for cell, time and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DECKS = ROOT / "tutormesh" / "evals" / "datasets" / "decks"
LABELS = DECKS.parent / "deck_labels.jsonl"
BENCH_DECK = "linear_equations"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_parse(fmt: str, repeats: int) -> dict[str, Any]:
    """Time `parse_deck` on the benchmark deck in this process (imports excluded)."""
    from tutormesh.core.settings import Settings
    from tutormesh.tools.ingest.parse import parse_deck

    path, settings = DECKS / f"{BENCH_DECK}.{fmt}", Settings()
    rss_imports = _rss_mb()
    tracemalloc.start()
    deck = parse_deck(path, settings)  # warm-up, and the traced peak of one parse
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        parse_deck(path, settings)
        seconds.append(time.perf_counter() - start)
    return {
        "format": fmt,
        "bytes": path.stat().st_size,
        "slides": len(deck.slides),
        "ms_per_slide": 1000 * statistics.median(seconds) / len(deck.slides),
        "ms_total": 1000 * statistics.median(seconds),
        "traced_peak_mb": peak,
        "rss_imports_mb": rss_imports,
        "rss_peak_mb": _rss_mb(),
    }


def child_pdf(lib: str, path: Path) -> dict[str, Any]:
    """Extract one PDF with one library: per-page text and tables, time, peak RSS (or its error)."""
    import importlib

    importlib.import_module(lib)  # imports are not timed
    start = time.perf_counter()
    try:
        result = _extract(lib, path)
    except Exception as exc:  # a refusal is a result here (the decompression bomb)
        result = {"pages": [], "tables": [], "error": type(exc).__name__}
    return {**result, "seconds": time.perf_counter() - start, "rss_mb": _rss_mb()}


def _extract(lib: str, path: Path) -> dict[str, Any]:
    pages: list[str] = []
    tables: list[list[list[str]]] = []
    if lib == "pypdf":
        from pypdf import PdfReader

        for page in PdfReader(path).pages:
            page.get_contents()  # as parse_deck does: extract_text alone swallows pypdf's inflate limit
            pages.append(page.extract_text() or "")
    elif lib == "pdfplumber":
        import pdfplumber

        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                pages.append(page.extract_text() or "")
                tables += [[[c or "" for c in row] for row in t] for t in page.extract_tables()]
    else:
        from markitdown import MarkItDown

        text = MarkItDown().convert(str(path)).text_content
        pages = [text]  # markitdown joins the pages: no page numbers survive
        tables = _pipe_tables(text)
    return {"pages": pages, "tables": tables}


def _pipe_tables(text: str) -> list[list[list[str]]]:
    tables, rows = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows:
            tables.append(rows)
            rows = []
    return tables


def _norm(text: str) -> str:
    return " ".join(text.split())


def _run_child(args: list[str], lib_path: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    paths = [str(ROOT), *([lib_path] if lib_path else []), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_formats(repeats: int) -> None:
    """Print the per-format parse figures for the 50-slide deck."""
    print(f"parse_deck on {BENCH_DECK}.* ({repeats} timed runs each, median; fresh process per format)")
    print(f"{'format':6} {'KB':>6} {'slides':>6} {'ms/slide':>9} {'ms/deck':>8} {'traced MB':>10}", end="")
    print(f" {'RSS imports':>12} {'RSS peak':>9}")
    for fmt in ("pdf", "pptx", "md", "docx"):
        r = _run_child(["--child", fmt, "--repeats", str(repeats)], None)
        print(
            f"{fmt:6} {r['bytes'] / 1024:6.1f} {r['slides']:6} {r['ms_per_slide']:9.2f} {r['ms_total']:8.1f} "
            f"{r['traced_peak_mb']:10.1f} {r['rss_imports_mb']:12.0f} {r['rss_peak_mb']:9.0f}"
        )


def compare_pdf(lib_path: str | None) -> None:
    """Print, per PDF library, what it recovers from the labelled PDF decks and at what cost."""
    sys.path.insert(0, str(DECKS))
    import make_decks  # the specs hold the tables each deck shows

    specs = {s["name"]: s for s in make_decks.load_specs()}
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pdf_rows = [r for r in rows if r["file"].endswith(".pdf")]
    print(f"PDF libraries on {', '.join(r['file'] for r in pdf_rows)}")
    print(f"{'library':11} {'pages':>6} {'items found':>12} {'tables':>7} {'ms/page':>8} {'RSS MB':>7}")
    for lib in ("pypdf", "pdfplumber", "markitdown"):
        found = items = tables_ok = tables = n_pages = 0
        seconds = rss = 0.0
        try:
            results = [_run_child(["--pdf-child", lib, str(DECKS / r["file"])], lib_path) for r in pdf_rows]
        except subprocess.CalledProcessError as exc:
            print(f"{lib:11} not available ({exc.stderr.strip().splitlines()[-1][:60]})")
            continue
        for row, res in zip(pdf_rows, results, strict=True):
            spec_slides = specs[row["file"].rsplit(".", 1)[0]]["slides"]
            per_page = len(res["pages"]) == len(spec_slides)
            n_pages += len(spec_slides)
            for ex in row["exercises"]:
                page = res["pages"][ex["slide"] - 1] if per_page else res["pages"][0]
                items += 1
                found += _norm(ex["prompt"]) in _norm(page) and _norm(ex["answer"]) in _norm(page)
            expected = [s["table"] for s in spec_slides if "table" in s]
            got = [[[_norm(c) for c in r] for r in t] for t in res["tables"]]
            tables += len(expected)
            tables_ok += sum(1 for t in expected if [[_norm(c) for c in r] for r in t] in got)
            seconds += res["seconds"]
            rss = max(rss, res["rss_mb"])
        pages = "yes" if all(len(r["pages"]) > 1 for r in results) else "no"
        print(
            f"{lib:11} {pages:>6} {found:>5}/{items:<6} {tables_ok:>3}/{tables:<3} "
            f"{1000 * seconds / n_pages:8.1f} {rss:7.0f}"
        )


def compare_bomb(lib_path: str | None, inflated_mb: int) -> None:
    """Print what each library does with a PDF whose one stream inflates to inflated_mb MB."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(ROOT))
        from tests.unit.tools.test_ingest_hostile import flate_bomb_pdf  # the hostile tests' own bomb

        bomb = flate_bomb_pdf(Path(tmp) / "bomb.pdf", inflated_mb << 20)
        print(f"decompression bomb: {bomb.stat().st_size / 1024:.0f} KB file, one stream of {inflated_mb} MB")
        for lib in ("pypdf", "pdfplumber", "markitdown"):
            try:
                res = _run_child(["--pdf-child", lib, str(bomb)], lib_path)
            except subprocess.CalledProcessError:
                print(f"{lib:11} not available")
                continue
            outcome = f"raised {res['error']}" if "error" in res else "read it"
            print(f"{lib:11} {outcome:32} {res['seconds']:6.2f} s {res['rss_mb']:7.0f} MB RSS")


def main() -> None:
    """Parse the command line and run the chosen benchmark (or a child's share of it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare-pdf", action="store_true")
    parser.add_argument("--lib-path", help="extra import path for pdfplumber/markitdown (children only)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pdf-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_parse(args.child, args.repeats)))
    elif args.pdf_child:
        print(json.dumps(child_pdf(args.pdf_child[0], Path(args.pdf_child[1]))))
    elif args.compare_pdf:
        compare_pdf(args.lib_path)
        compare_bomb(args.lib_path, 400)
    else:
        bench_formats(args.repeats)


if __name__ == "__main__":
    main()
