"""The simulated-learner suite of `tutormesh eval`: does adaptation beat the fixed sequence?

Scores over the runs of evals/simulation.py (both arms meet the same learners):
- item_reduction: 1 - mean items to master the unit with adaptation / the same under the fixed
  sequence (a learner who never gets there counts at the turn cap's items, which flatters the
  fixed arm);
- style_recovery: the share of learners whose best content type in the profile after
  `RECOVER_BY` turns (`learner_model.preferred(profile)[0]`) is their hidden preference;
- style_recovery_of_ceiling: style_recovery over `style_ceiling`, the share an observer who knows
  every other hidden parameter names right from the same answers (`most_likely_preferred`): how
  much of what the answers tell the profile finds;
- negotiation_success: agreements committed and kept at their review, over every negotiation that
  reached a verdict (kept, renegotiated or escalated); the fixed sequence does not negotiate;
- negotiation_loops: negotiations still open after the run, with more proposals than the round
  limit, or opened on a skill whose agreement was still under review or escalated (must be 0).
Each score has an absolute target (`TARGETS`, from the issue); a run of the baseline's size and seed
must also stay within TOLERANCE of baselines/simulated_learners.json (the run is deterministic, so a
move means a change). style_recovery does not reach its 0.80 target, which lies above its ceiling
(docs/simulated-learners.md has the figures): the gate holds it to the baseline and to `FLOORS`, well
above the fixed sequence's chance level (a quarter of the learners prefer text, which it always shows).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from statistics import mean
from typing import Any

from tutormesh.core.settings import get_settings
from tutormesh.evals import simulation

BASELINE = Path(__file__).resolve().parent / "baselines" / "simulated_learners.json"
# style_recovery_of_ceiling: recovery over what the answers allow (`style_ceiling`), the target proposed
# in docs/simulated-learners.md because 0.80 lies above that ceiling for this tutor in 20 turns.
TARGETS = {"item_reduction": 0.30, "style_recovery": 0.80, "style_recovery_of_ceiling": 0.90,
           "negotiation_success": 0.80}
NOT_MET = {"style_recovery"}  # reported against TARGETS, gated on FLOORS and the baseline
FLOORS = {"style_recovery": 0.55}
TOLERANCE = 0.03
MEANING = {"item_reduction": "adaptation saves fewer items against the fixed sequence",
           "style_recovery": "the profile finds fewer learners' preferred content type",
           "style_recovery_of_ceiling": "the profile finds fewer preferred types than the answers allow",
           "negotiation_success": "fewer agreements are kept (more renegotiated or escalated)"}
VERDICTS = ("kept", "renegotiated", "escalated")


def arm_figures(results: list[dict[str, Any]], arm: str) -> dict[str, Any]:
    """Figures of one arm: items and turns, mastery, style recovery, negotiations by outcome."""
    rows = [r for r in results if r["arm"] == arm]
    negotiations = [n for r in rows for n in r["negotiations"]]
    by_status = {s: sum(n["status"] == s for n in negotiations) for s in ("committed", "open", *VERDICTS)}
    decided = sum(by_status[s] for s in VERDICTS)
    max_rounds = get_settings().negotiation_max_rounds
    certified = sum(r["certified"] for r in rows)
    return {
        "learners": len(rows),
        "items_mean": round(mean(r["items"] for r in rows), 3) if rows else 0.0,
        "turns_mean": round(mean(r["turns"] for r in rows), 3) if rows else 0.0,
        "mastered_share": round(sum(r["mastered"] for r in rows) / len(rows), 4) if rows else 0.0,
        "certified_truly_known": round(sum(r["certified_known"] for r in rows) / certified, 4) if certified else None,
        "style_recovery": round(sum(r["style_at"] == r["preferred"] for r in rows) / len(rows), 4) if rows else 0.0,
        "style_ceiling": round(sum(r["style_ceiling_hit"] for r in rows) / len(rows), 4) if rows else 0.0,
        "negotiations": len(negotiations), "by_status": by_status,
        "negotiation_success": round(by_status["kept"] / decided, 4) if decided else None,
        "loops": by_status["open"] + sum(n["proposals"] > max_rounds or n["loop"] for n in negotiations),
    }


def scores(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The gated scores (each {"score", "n"}); negotiation_success is absent when nothing was negotiated."""
    fixed, adaptive = arm_figures(results, "fixed"), arm_figures(results, "adaptive")
    out = {
        "item_reduction": {"score": round(1 - adaptive["items_mean"] / fixed["items_mean"], 4)
                           if fixed["items_mean"] else 0.0, "n": adaptive["learners"]},
        "style_recovery": {"score": adaptive["style_recovery"], "n": adaptive["learners"]},
        "style_recovery_of_ceiling": {"score": round(adaptive["style_recovery"] / adaptive["style_ceiling"], 4)
                                      if adaptive["style_ceiling"] else 0.0, "n": adaptive["learners"]},
        "negotiation_loops": {"score": adaptive["loops"], "n": adaptive["negotiations"]},
    }
    if adaptive["negotiation_success"] is not None:
        decided = sum(adaptive["by_status"][s] for s in VERDICTS)
        out["negotiation_success"] = {"score": adaptive["negotiation_success"], "n": decided}
    return out


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings from `tutormesh eval`'s flags."""
    return {"students": args.sim_students, "adaptation": not args.no_adaptation, "progress": not args.quiet}


def run(students: int = simulation.STUDENTS, *, adaptation: bool = True, progress: bool = False,
        processes: int = 2) -> dict[str, Any]:
    """Simulate `students` learners through both arms; return the scores, each arm's figures and the runtime."""
    started = time.perf_counter()
    results = simulation.simulate(students, adaptation=adaptation, processes=processes, progress=progress)
    return {"students": students, "seed": simulation.SEED, "adaptation": adaptation,
            "max_turns": simulation.MAX_TURNS, "unit_topics": simulation.UNIT_TOPICS,
            "seconds": round(time.perf_counter() - started, 1), "scores": scores(results),
            "arms": {arm: arm_figures(results, arm) for arm in ("fixed", "adaptive")}}


def _comparable(report: dict[str, Any], baseline: dict[str, Any]) -> bool:
    return all(report.get(k) == baseline.get(k) for k in ("students", "seed", "max_turns", "unit_topics"))


def gate(report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Failures: a score under its target, a loop, or (same size and seed) a drop past TOLERANCE from the baseline."""
    now = report["scores"]
    failures = []
    for key, target in TARGETS.items():
        limit, what = (FLOORS[key], "floor") if key in NOT_MET else (target, "target")
        if key not in now:
            failures.append(f"simulated_learners.{key}: missing (no negotiation reached a verdict)")
        elif now[key]["score"] < limit:
            failures.append(f"simulated_learners.{key}: {now[key]['score']:.3f} < {what} {limit:.2f} "
                            f"({MEANING[key]})")
    if now["negotiation_loops"]["score"]:
        failures.append(f"simulated_learners.negotiation_loops: {now['negotiation_loops']['score']} negotiations "
                        "left open or past the round limit")
    if _comparable(report, baseline):
        for key, base in baseline.get("scores", {}).items():
            if key in TARGETS and key in now and now[key]["score"] < base["score"] - TOLERANCE:
                failures.append(f"simulated_learners.{key}: {now[key]['score']:.3f} < baseline "
                                f"{base['score']:.3f} - {TOLERANCE:.2f} ({MEANING[key]})")
    return failures


def table(report: dict[str, Any], baseline: dict[str, Any]) -> str:
    """Render the scores beside their targets and baselines, then both arms' figures."""
    comparable = _comparable(report, baseline)
    lines = [f"simulated learners ({report['students']} learners x 2 arms, seed {report['seed']}, unit of "
             f"{report['unit_topics']} topics, at most {report['max_turns']} turns, adaptation "
             f"{'on' if report['adaptation'] else 'OFF'}, {report['seconds']:.0f} s)",
             f"{'key':<26} {'n':>6} {'score':>7} {'target':>7} {'baseline':>9}", "-" * 59]
    for key, now in report["scores"].items():
        base = baseline.get("scores", {}).get(key, {}).get("score") if comparable else None
        target = f"{TARGETS[key]:.2f}" if key in TARGETS else "0"
        note = f"  target not met; gated at {FLOORS[key]:.2f}" if key in NOT_MET and now["score"] < TARGETS[key] else ""
        lines.append(f"{key:<26} {now['n']:>6} {now['score']:>7.3f} {target:>7} "
                     f"{'' if base is None else f'{base:.3f}':>9}{note}")
    lines.append(f"{'arm':<9} {'items':>7} {'turns':>7} {'mastered':>9} {'truly known':>12} {'style':>6} "
                 f"{'ceiling':>8} "
                 f"{'negotiations (kept/renegotiated/escalated/pending)':>52}")
    for arm, f in report["arms"].items():
        s = f["by_status"]
        known = "" if f["certified_truly_known"] is None else f"{f['certified_truly_known']:.1%}"
        lines.append(f"{arm:<9} {f['items_mean']:>7.2f} {f['turns_mean']:>7.2f} {f['mastered_share']:>9.1%} "
                     f"{known:>12} {f['style_recovery']:>6.1%} {f['style_ceiling']:>8.1%} "
                     f"{f['negotiations']:>10} ({s['kept']}/{s['renegotiated']}/{s['escalated']}/{s['committed']})")
    return "\n".join(lines)


def read_baseline() -> dict[str, Any]:
    """The committed baseline ({} when none)."""
    return json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}


def write_baseline(report: dict[str, Any]) -> None:
    """Commit a run's scores (and what makes runs comparable) as the baseline; never a run without adaptation."""
    if not report["adaptation"]:
        print("simulated_learners: not writing a baseline from a run with --no-adaptation")
        return
    kept = {k: report[k] for k in ("students", "seed", "max_turns", "unit_topics", "scores")}
    BASELINE.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n", encoding="utf-8")
