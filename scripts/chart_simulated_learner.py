"""Draw one simulated learner's trajectory, adaptive vs fixed: docs/charts/simulated-learner.png.

Usage: python scripts/chart_simulated_learner.py [--learner N] [--seed S] [--out PATH]

Top row: the tutor's mastery estimate per skill of the unit, per turn (dotted: when the hidden
learner actually knows the skill). Bottom row: the profile's style weight per content type, per
turn (the fixed sequence learns none, so its weights stay at the 0.5 prior).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tutormesh.evals import simulation  # noqa: E402
from tutormesh.evals.simulated_learners import population  # noqa: E402
from tutormesh.tools.learner_model import CONTENT_TYPES  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "charts" / "simulated-learner.png"


def traces(learner: int, seed: int) -> tuple[object, dict[str, dict[str, object]]]:
    """Run one learner through both arms in this process; return its hidden parameters and both runs."""
    skills = [t.skill for t in simulation.unit_topics()]
    params = population(learner + 1, skills, seed)[learner]
    with simulation.scratch_tutor() as tutor:
        return params, {arm: simulation.run_student(tutor, params, adaptive=arm == "adaptive", trace=True)
                        for arm in ("adaptive", "fixed")}


def main() -> None:
    """Draw the chart."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learner", type=int, default=0)
    parser.add_argument("--seed", type=int, default=simulation.SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    params, runs = traces(args.learner, args.seed)
    skills = [t.skill for t in simulation.unit_topics()]
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True, sharey="row")
    for col, arm in enumerate(("adaptive", "fixed")):
        run = runs[arm]
        rows = run["trace"]
        turns = [r["turn"] for r in rows]
        top, bottom = axes[0][col], axes[1][col]
        for i, skill in enumerate(skills):
            colour = f"C{i}"
            top.plot(turns, [r["mastery"][skill] or 0.0 for r in rows], color=colour, label=skill)
            top.plot(turns, [1.02 if r["known"][skill] else None for r in rows], ":", color=colour, linewidth=3)
        top.axhline(0.95, color="grey", linewidth=0.8, linestyle="--")
        state = "mastered the unit" if run["mastered"] else "did not master the unit"
        top.set_title(f"{arm}: {run['items']} items, {run['turns']} turns, {state}")
        for i, kind in enumerate(CONTENT_TYPES):
            width = 2.5 if kind == params.preferred else 1.2
            bottom.plot(turns, [r["style"][kind] for r in rows], color=f"C{i + 4}", linewidth=width,
                        label=kind + (" (hidden preference)" if kind == params.preferred else ""))
        bottom.axvline(simulation.RECOVER_BY, color="grey", linewidth=0.8, linestyle="--")
        bottom.set_xlabel("turn")
    axes[0][0].set_ylabel("mastery estimate (dotted: truly known)")
    axes[1][0].set_ylabel("style weight")
    axes[0][1].legend(loc="lower right", fontsize=8)
    axes[1][1].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Simulated learner {params.learner_id}: prefers {params.preferred} "
                 f"(learning x{params.style_boost:.1f}), {params.pace} pace, seed {args.seed}")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
