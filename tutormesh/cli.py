"""`tutormesh` command line: grade answers, chat with the student agent, prepare the database."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import uuid
from collections.abc import Sequence
from typing import Any, TextIO


def _grade_one(expected: str, answer: str, language: str = "en") -> dict[str, Any]:
    from tutormesh.tools.grading import grade

    result = grade(expected, answer, language=language)
    return {"correct": result.correct, "feedback": result.feedback, "reason": result.reason, "kind": result.kind}


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade one answer, or JSON lines {"expected", "answer"} from a file or stdin."""
    if not args.jsonl:
        if args.expected is None or args.answer is None:
            print("tutormesh grade: give --expected and --answer, or --jsonl [FILE]", file=sys.stderr)
            return 2
        print(json.dumps(_grade_one(args.expected, args.answer, args.language), ensure_ascii=False))
        return 0
    stream: TextIO = sys.stdin if args.jsonl == "-" else open(args.jsonl, encoding="utf-8")  # noqa: SIM115
    failures = 0
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"not valid JSON ({exc})") from None
                if not isinstance(row, dict) or not isinstance(row.get("expected"), str) or not isinstance(
                    row.get("answer"), str
                ):
                    raise ValueError('each line must be an object with string "expected" and "answer"')
                if row.get("language", args.language) not in ("en", "hi", "es"):
                    raise ValueError('"language" must be "en", "hi" or "es"')
            except ValueError as exc:
                failures += 1
                print(json.dumps({"line": number, "error": str(exc)}), flush=True)
                continue
            out = _grade_one(row["expected"], row["answer"], row.get("language", args.language))
            if "id" in row:
                out = {"id": row["id"], **out}
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def cmd_seed(_args: argparse.Namespace) -> int:
    """Apply migrations and load the curriculum into SQL."""
    from tutormesh.core.settings import get_settings
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    prepare_database(settings)
    print(f"database ready: {settings.sql_url.split('@')[-1]}")
    return 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    """Apply Alembic migrations (and the curriculum) to the database; sharded, to every shard too."""
    from tutormesh.core.settings import get_settings
    from tutormesh.server.shard_commands import upgrade_all

    return upgrade_all(get_settings())


def _mastery_line(state: dict[str, Any]) -> str:
    from tutormesh.tools.curriculum import load_curriculum

    curriculum = load_curriculum(state.get("language") or "en")
    mastery = state.get("mastery") or {}
    topic = state.get("topic")
    shown = [f"{curriculum.topic(s).title}: {p:.0%}" for s, p in mastery.items() if s == topic or p >= 0.95]
    return "mastery | " + (" | ".join(shown) if shown else "none yet")


def _account_student_id(store: Any, username: str) -> str | None:
    """The student behind a student account (accounts keep a pseudonymous student row)."""
    from sqlalchemy import select

    from tutormesh.core.models import User

    with store.sessions() as s:
        return s.scalar(select(User.student_id).where(User.username == username, User.role == "student"))


def cmd_chat(args: argparse.Namespace) -> int:
    """A terminal chat with the student agent; the thread resumes across runs."""
    from tutormesh.core import llm
    from tutormesh.core.settings import get_settings
    from tutormesh.graphs.runtime import new_replies, open_tutor
    from tutormesh.server.thread_service import minimised_text
    from tutormesh.tools.store import get_store

    store = get_store()
    bands = get_settings().consent_required_bands
    student_id = _account_student_id(store, args.student) or store.student_id_by_name(args.student)
    if student_id is None:
        student_id = uuid.uuid4().hex[:12]
        store.ensure_student(student_id, name=args.student)
        print(f"(new student {args.student!r} created)")
    thread_id = args.thread or f"cli-{student_id}"
    print("Type a message (e.g. 'I want to practice linear equations'); /quit to leave.")
    with open_tutor() as tutor:
        for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("you> "), None):
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if not text:
                continue
            if len(text) > 2000:
                print("tutor> That message is too long (2000 characters at most).")
                continue
            # The same consent rule as the API: an under-13 student's words are minimised, no LLM.
            text, restricted = minimised_text(store.sessions, bands, student_id, text)
            with llm.no_external_llm(restricted):
                state = tutor.send(student_id, thread_id, text)
            for reply in new_replies(state):
                print(f"tutor> {reply}")
            if state.get("intent") == "answer":
                print(_mastery_line(state))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run a scripted session on the embedded profile: practice, struggle, negotiation."""
    from tutormesh.demo import run_demo

    return run_demo(args.student)


# Feature areas add their sub-commands here: each module has `register(subparsers) -> None`.
COMMAND_MODULES: tuple[str, ...] = ("tutormesh.server.commands", "tutormesh.assessment.commands",
                                    "tutormesh.evals.commands", "tutormesh.tools.curriculum.commands",
                                    "tutormesh.server.student_commands", "tutormesh.prompts.commands",
                                    "tutormesh.server.shard_commands")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (one sub-command per job)."""
    parser = argparse.ArgumentParser(prog="tutormesh", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade an answer symbolically (no LLM)")
    grade.add_argument("--expected", help="the correct answer, e.g. 'x = 3'")
    grade.add_argument("--answer", help="the student's answer")
    grade.add_argument("--jsonl", nargs="?", const="-", metavar="FILE",
                       help='grade JSON lines {"expected", "answer"} from FILE or stdin')
    grade.add_argument("--language", default="en", choices=("en", "hi", "es"),
                       help="language of the feedback (and of a decimal comma); default en")
    grade.set_defaults(func=cmd_grade)
    chat = sub.add_parser("chat", help="chat with your learning agent in the terminal")
    chat.add_argument("--student", required=True, help="student name (created if new)")
    chat.add_argument("--thread", help="conversation thread id (default: one per student)")
    chat.set_defaults(func=cmd_chat)
    seed = sub.add_parser("seed", help="apply migrations and load the curriculum into SQL")
    seed.set_defaults(func=cmd_seed)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations to the database (sharded: the directory and every "
                                      "shard database)").set_defaults(func=cmd_db_upgrade)
    demo = sub.add_parser("demo", help="run a scripted tutoring session end to end")
    demo.add_argument("--student", default="demo-student")
    demo.set_defaults(func=cmd_demo)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tutormesh` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, LookupError) as exc:
        print(f"tutormesh {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
