"""CPU per tier-1 turn as one student's thread grows: TutorMesh against the naive LangGraph app.

bench_api.py's knees come from 5-minute runs, where no thread is older than a few dozen turns, so
the naive app (floor_app.py: the stock saver, a checkpoint per step, the whole conversation in
state) looks as cheap as it ever will. A student's thread lives for a semester (`tutormesh chat`
keeps one per student): about 40 turns a session, a few sessions a week. This grows one thread per
app to `--turns` turns, in this process, answering 3 right : 1 wrong, and prints the CPU of a turn
(`time.process_time`, mean of the `--window` turns up to each mark) and the checkpoint file size.
Both graphs are called directly (no HTTP, auth or limits), on SQLite in a scratch directory.

    python benchmarks/bench_history.py --turns 1000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MARKS = (50, 100, 250, 500, 1000, 2000)


def answer_for(curriculum: Any, current: dict[str, Any] | None, turn: int) -> str:
    """The right answer three turns in four, a wrong one the fourth; a request when nothing is open."""
    if not current:
        return "next problem please"
    return curriculum.item(current["id"]).answer if turn % 4 else "12345"


def grow(name: str, turn_once: Any, turns: int, window: int, db: Path) -> list[tuple[int, float, float]]:
    """Run `turns` turns of `turn_once(n)`; return (turn, CPU ms per turn over the window, MiB on disk) at MARKS."""
    rows, times = [], []
    for n in range(1, turns + 1):
        started = time.process_time()
        turn_once(n)
        times.append(time.process_time() - started)
        if n in MARKS or n == turns:
            recent = times[-window:]
            size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 2**20
            rows.append((n, 1000 * sum(recent) / len(recent), size))
            print(f"{name:<10} turn {n:>5}: {rows[-1][1]:7.2f} ms CPU per turn, checkpoints {size:7.1f} MiB",
                  flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=1000, help="turns in each thread (default 1000)")
    parser.add_argument("--window", type=int, default=50, help="turns averaged at each mark (default 50)")
    args = parser.parse_args()
    if args.turns < args.window or args.window < 1:
        parser.error("--turns must be at least --window, and --window at least 1")
    root = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        return run(args.turns, args.window, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)  # the naive app's checkpoints pass 1 GiB by 1,000 turns


def run(turns: int, window: int, root: Path) -> int:
    """Grow both threads in `root`; print the marks and the comparison table."""
    os.environ.update(TUTORMESH_DATA_DIR=str(root), TUTORMESH_LLM_ENABLED="false")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from floor_app import naive_graph, stock_saver
    from langchain_core.messages import HumanMessage

    from tutormesh.core.settings import get_settings
    from tutormesh.graphs.runtime import Tutor
    from tutormesh.tools.curriculum import load_curriculum
    from tutormesh.tools.store import get_store

    get_settings.cache_clear()
    settings, curriculum = get_settings(), load_curriculum()
    results: dict[str, list[tuple[int, float, float]]] = {}

    from tutormesh.core.checkpoints import open_checkpointer

    with open_checkpointer() as saver:
        tutor = Tutor(saver, settings)
        get_store().ensure_student("hist", name="hist")
        state: dict[str, Any] = tutor.send("hist", "hist-thread", "let's practice two-step equations")

        def tutormesh_turn(n: int) -> None:
            nonlocal state
            state = tutor.send("hist", "hist-thread", answer_for(curriculum, state.get("current_item"), n))

        results["tutormesh"] = grow("tutormesh", tutormesh_turn, turns, window,
                                    Path(settings.checkpoints_url))

    os.environ["TUTORMESH_DATA_DIR"] = str(root / "naive")  # its own checkpoint file
    get_settings.cache_clear()
    with stock_saver() as stock:
        graph = naive_graph().compile(checkpointer=stock)
        config = {"configurable": {"thread_id": "naive-thread"}}
        naive: dict[str, Any] = graph.invoke({"messages": [HumanMessage("hello")]}, config)

        def naive_turn(n: int) -> None:
            nonlocal naive
            naive = graph.invoke({"messages": [HumanMessage(answer_for(curriculum, naive.get("current_item"), n))]},
                                 config)

        results["naive"] = grow("naive", naive_turn, turns, window, Path(get_settings().checkpoints_url))

    print(f"\n{'turn':>6} {'TutorMesh ms':>13} {'naive ms':>9} {'naive / TutorMesh':>18} {'MiB (TM / naive)':>18}")
    for (n, ours, ours_mib), (_, theirs, theirs_mib) in zip(results["tutormesh"], results["naive"], strict=True):
        print(f"{n:>6} {ours:>13.2f} {theirs:>9.2f} {theirs / ours:>17.1f}x {ours_mib:>8.1f} / {theirs_mib:<7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
