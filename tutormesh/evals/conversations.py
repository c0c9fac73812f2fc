"""Conversation eval: scripted multi-turn sessions in en, hi and es, checked on what the student sees.

Each session (datasets/conversations.jsonl) runs through the real student graph on a scratch
embedded profile with the LLM off (tier 1, what every student gets offline). Each turn states what
must hold: the intent, whether it was graded (and right), the topic, the reply language, and text
the reply must or must not contain. `<right>` / `<wrong>` stand for the open problem's answer and a
wrong one; `<right-hi>`, `<right-hinglish>`, `<right-es>` type the right answer in that language.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tutormesh.core.settings import get_settings

DATASET = Path(__file__).resolve().parent / "datasets" / "conversations.jsonl"
BASELINE = Path(__file__).resolve().parent / "baselines" / "conversations.json"
TARGET = 1.0  # every scripted expectation holds
SPOKEN = {"<right-hi>": "x बराबर {}", "<right-hinglish>": "x barabar {}", "<right-es>": "x es igual a {}"}


def sessions() -> list[dict[str, Any]]:
    """The scripted sessions."""
    return [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]


@contextmanager
def scratch_profile() -> Iterator[None]:
    """An embedded profile in a temporary data dir with the LLM off; the caller's settings come back after."""
    saved = {k: os.environ.get(k) for k in ("TUTORMESH_DATA_DIR", "TUTORMESH_LLM_ENABLED", "TUTORMESH_DATABASE_URL",
                                             "TUTORMESH_CHECKPOINT_URL")}
    with tempfile.TemporaryDirectory(prefix="tutormesh-conv-") as tmp:
        os.environ.update(TUTORMESH_DATA_DIR=tmp, TUTORMESH_LLM_ENABLED="false")
        os.environ.pop("TUTORMESH_DATABASE_URL", None)
        os.environ.pop("TUTORMESH_CHECKPOINT_URL", None)
        get_settings.cache_clear()
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            get_settings.cache_clear()


def _text(say: str, state: dict[str, Any]) -> str:
    from tutormesh.tools.curriculum import load_curriculum

    item = state.get("current_item")
    if not say.startswith("<") or item is None:
        return say
    answer = load_curriculum().item(item["id"]).answer
    if say == "<wrong>":
        return "x = 12345" if "x" in answer else "12345"
    if say in SPOKEN and answer.startswith("x = "):
        return SPOKEN[say].format(answer.removeprefix("x = "))
    return answer


def check(expect: dict[str, Any], state: dict[str, Any], reply: str) -> list[str]:
    """Return what did not hold for one turn."""
    graded = state.get("intent") == "answer" and bool((state.get("understanding") or {}).get("is_attempt"))
    problems = []
    if "intent" in expect and state.get("intent") != expect["intent"]:
        problems.append(f"intent {state.get('intent')} != {expect['intent']}")
    if "graded" in expect and graded != expect["graded"]:
        problems.append(f"graded {graded} != {expect['graded']}")
    if "correct" in expect and (not graded or state["last_grade"]["correct"] != expect["correct"]):
        problems.append(f"correct != {expect['correct']}")
    if "topic_in" in expect and state.get("topic") not in expect["topic_in"]:
        problems.append(f"topic {state.get('topic')} not in {expect['topic_in']}")
    if "language" in expect and state.get("language") != expect["language"]:
        problems.append(f"language {state.get('language')} != {expect['language']}")
    problems += [f"reply lacks {s!r}" for s in expect.get("contains", []) if s not in reply]
    problems += [f"reply has {s!r}" for s in expect.get("not_contains", []) if s in reply]
    return problems


def run() -> dict[str, Any]:
    """Replay every session; score the share of turns whose expectations all hold."""
    from tutormesh.graphs.runtime import new_replies, open_tutor
    from tutormesh.tools.store import get_store

    turns, passed, failures = 0, 0, []
    transcripts: list[dict[str, Any]] = []
    with scratch_profile(), open_tutor() as tutor:
        for session in sessions():
            student_id = f"eval-{uuid.uuid4().hex[:8]}"
            get_store().ensure_student(student_id, name=student_id)
            thread, state = f"conv-{student_id}", {}
            lines = []
            for turn in session["turns"]:
                said = _text(turn["say"], state)
                state = tutor.send(student_id, thread, said)
                reply = "\n".join(new_replies(state))
                lines.append({"student": said, "tutor": reply})
                problems = check(turn["expect"], state, reply)
                turns += 1
                passed += not problems
                if problems:
                    failures.append({"session": session["name"], "said": said, "problems": problems})
            transcripts.append({"session": session["name"], "turns": lines})
    return {"scores": {"conversation_turns": {"score": round(passed / turns, 4) if turns else 1.0, "n": turns}},
            "failures": failures, "transcripts": transcripts}


def gate(report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Failures: any scripted expectation that does not hold."""
    score = report["scores"]["conversation_turns"]["score"]
    out = [f"conversation_turns: {score:.3f} < target {TARGET:.2f}"] if score < TARGET else []
    return out + [f"  {f['session']}: {f['said']!r}: {'; '.join(f['problems'])}" for f in report["failures"]]


def table(report: dict[str, Any], baseline: dict[str, Any]) -> str:
    """Render the score and any failing turns."""
    now = report["scores"]["conversation_turns"]
    base = baseline.get("scores", {}).get("conversation_turns", {}).get("score")
    lines = [f"conversations: {now['score']:.3f} of {now['n']} scripted turns hold (target {TARGET:.2f}, "
             f"baseline {'' if base is None else f'{base:.3f}'})"]
    lines += [f"  FAIL {f['session']}: {f['said']!r}: {'; '.join(f['problems'])}" for f in report["failures"]]
    return "\n".join(lines)


def read_baseline() -> dict[str, Any]:
    """The committed baseline ({} when none)."""
    return json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}


def write_baseline(report: dict[str, Any]) -> None:
    """Commit a run's score as the baseline."""
    BASELINE.write_text(json.dumps({"scores": report["scores"]}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
