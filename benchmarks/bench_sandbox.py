"""Measure the sandbox: start-to-verdict overhead and how long hostile programs take to contain.

Run ``python benchmarks/bench_sandbox.py [--runs 30]``. Prints p50/p95 for a trivial solution
(with and without the seccomp filter, next to a bare ``python -I -S`` start for scale), for three
tests and for one test making 100 calls (the cost of a call across the process boundary), then
one line per hostile program with its verdict and time to verdict.

``--against DIR`` instead compares this tree with another checkout (e.g. a ``git worktree`` of an
older commit): the trivial case runs in alternating batches of 5 in each, so both see the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from tutormesh.tools.sandbox import SandboxLimits, run_tests, seccomp

ADD = "def add(a, b):\n    return a + b\n"
TESTS = "from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"
THREE_TESTS = TESTS + "\ndef test_b():\n    assert add(2, 2) == 4\n\ndef test_c():\n    assert add(0, 0) == 0\n"
HUNDRED_CALLS = "from solution import add\n\ndef test_many():\n    for i in range(100):\n" + (
    "        assert add(i, 1) == i + 1\n"
)
HOSTILE = {
    "infinite loop": "def add(a, b):\n    while True:\n        pass\n",
    "sleep forever": "import time\n\ndef add(a, b):\n    time.sleep(3600)\n",
    "fork bomb": "import os\n\ndef add(a, b):\n    while True:\n        os.fork()\n",
    "memory hog": "def add(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(10**7))\n",
    "huge file": "def add(a, b):\n    f = open('f', 'wb')\n    while True:\n        f.write(bytes(10**6))\n",
    "kill parent": "import os\n\ndef add(a, b):\n    os.kill(os.getppid(), 9)\n",
    "os._exit at import": "import os\nos._exit(0)\n" + ADD,
    "returns 8 MiB": "def add(a, b):\n    return 'x' * (8 * 1024 * 1024)\n",
    # The forgery that passed the old in-process harness: rewrite its audit hook, walk the stack.
    "forged grade (hook + frames)": "import __main__, os, sys\n"
    "__main__._audit_hook.__defaults__ = (frozenset(), frozenset(), frozenset(), type, str)\n"
    "frame = sys._getframe()\nwhile frame is not None and 'token' not in frame.f_locals:\n"
    "    frame = frame.f_back\nos.write(frame.f_locals['out'], frame.f_locals['token'] + b'Pforged')\n"
    "os._exit(0)\ndef add(a, b):\n    return 0\n",
    "lying __eq__": "class Liar(int):\n    def __eq__(self, other):\n        return True\n"
    "def add(a, b):\n    return Liar(0)\n",
}
LIMITS = SandboxLimits(wall_seconds=3.0, cpu_seconds=2, call_seconds=1.0)


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   max {ordered[-1]:6.1f} ms"


def _time(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm the page cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


# One batch in a fresh interpreter whose working directory (first on sys.path) is the tree measured.
_BATCH = """import json, sys, time
from tutormesh.tools.sandbox import run_tests
run_tests(sys.argv[1], sys.argv[2])
samples = []
for _ in range(5):
    started = time.perf_counter()
    assert run_tests(sys.argv[1], sys.argv[2]).verdict == "passed"
    samples.append((time.perf_counter() - started) * 1000)
print(json.dumps(samples))
"""


def _interleaved(other: Path, runs: int) -> None:
    """Print p50/p95 of this tree and of ``other``, measured in alternating batches."""
    here = Path(__file__).resolve().parent.parent
    samples: dict[Path, dict[str, list[float]]] = {here: {}, other: {}}
    for _ in range(max(1, runs // 5)):
        for tree in (other, here):
            for label, tests in (("1 test", TESTS), ("3 tests", THREE_TESTS)):
                out = subprocess.run([sys.executable, "-c", _BATCH, ADD, tests], cwd=tree, check=True,
                                     capture_output=True, text=True).stdout  # fmt: skip
                samples[tree].setdefault(label, []).extend(json.loads(out))
    for tree, by_label in samples.items():
        for label, values in by_label.items():
            print(f"{str(tree)[-28:]:28} {label:8} {_percentiles(values)}")


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--against", type=Path, default=None, help="another checkout to compare with")
    args = parser.parse_args()
    runs = args.runs
    if args.against is not None:
        _interleaved(args.against.resolve(), runs)
        return
    print(f"python {sys.version.split()[0]}, uid {os.geteuid()}, {os.cpu_count()} cpus, {runs} runs each")

    bare = [os.path.realpath(sys.executable), "-I", "-S", "-c", "pass"]
    print(f"{'bare python -I -S start':28} {_percentiles(_time(lambda: subprocess.run(bare, check=True), runs))}")

    def passing(tests: str) -> Callable[[], None]:
        def call() -> None:
            result = run_tests(ADD, tests)
            assert result.verdict == "passed", result

        return call

    print(f"{'trivial run_tests':28} {_percentiles(_time(passing(TESTS), runs))}")
    with mock.patch.object(seccomp, "build_filter", lambda machine=None: None):
        print(f"{'trivial, seccomp off':28} {_percentiles(_time(passing(TESTS), runs))}")
    print(f"{'three tests':28} {_percentiles(_time(passing(THREE_TESTS), runs))}")
    print(f"{'one test, 100 calls':28} {_percentiles(_time(passing(HUNDRED_CALLS), runs))}")

    print(f"\nhostile programs (limits: {LIMITS})")
    for name, solution in HOSTILE.items():
        started = time.perf_counter()
        result = run_tests(solution, TESTS, limits=LIMITS)
        elapsed = (time.perf_counter() - started) * 1000
        print(f"{name:28} {result.verdict:8} {elapsed:7.0f} ms   {result.detail[:70]}")


if __name__ == "__main__":
    main()
