"""CLI: `tutormesh ingest DECK --subject S` builds a draft with a progress bar; `tutormesh content
publish JOB` publishes one a person has reviewed. Publishing stays a separate, explicit step."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tutormesh.core.errors import TutorMeshError


def _staff_id(settings: Any, username: str | None) -> str:
    """The user id of a teacher or admin account (`--as`); "cli" (admins see its jobs) when none is named."""
    if username is None:
        return "cli"
    from sqlalchemy import select

    from tutormesh.core.db import sessionmaker_for
    from tutormesh.core.models import User

    with sessionmaker_for(settings)() as s:
        found = s.execute(select(User.id, User.role).where(User.username == username)).first()
    if found is None or found[1] not in ("teacher", "admin"):
        raise ValueError(f"--as {username!r}: no teacher or admin account of that name")
    return str(found[0])


def summary(draft: dict[str, Any], dropped_topics: list[str]) -> list[str]:
    """The draft in a few lines: topics with their slides, items, what verification dropped, the assignment."""
    deck = draft["deck"]
    lines = [f"{deck['file_name']} ({deck['format']}, {len(deck['slides'])} slides) -> subject {draft['subject']}, "
             f"{len(draft['topics'])} topics ({draft.get('generator', 'offline')} generator)"]
    for entry in draft["topics"]:
        topic = entry["topic"]
        mark = " [dropped]" if topic["slug"] in dropped_topics else ""
        slides = ", ".join(str(n) for n in entry["source_slides"])
        lines.append(f"  week {topic['week']:>2}  {topic['title']} ({topic['slug']}): lesson + "
                     f"{len(topic['templates'])} items, from slides {slides}{mark}")
    for item in draft.get("dropped", []):
        where = f"slide {item['source_slide']}" if item.get("source_slide") else "deck"
        lines.append(f"  dropped ({where}): {item['text'][:60]!r}: {item['reason']}")
    if draft.get("assignment"):
        a = draft["assignment"]
        lines.append(f"  assignment: {a['title']} ({len(a['template_ids'])} items, due in {a['due_in_days']} days)")
    lines += [f"  warning: {w}" for w in deck.get("warnings", [])]
    return lines


def cmd_ingest(args: argparse.Namespace) -> int:
    """Parse a deck, build its draft here (a progress bar), print a summary and where to review it."""
    from tqdm import tqdm

    from tutormesh.content import jobs
    from tutormesh.core.settings import get_settings
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    prepare_database(settings)
    path = Path(args.deck)
    if not path.is_file():
        print(f"tutormesh ingest: {path}: no such file", file=sys.stderr)
        return 2
    if path.stat().st_size > settings.ingest_max_bytes:
        print(f"tutormesh ingest: {path}: over {settings.ingest_max_bytes} bytes", file=sys.stderr)
        return 2
    try:
        job, started = jobs.submit(settings, data=path.read_bytes(), file_name=path.name, subject=args.subject,
                                   cohort=args.cohort, by=_staff_id(settings, args.as_user), send=False)
        if started:
            with tqdm(total=100, desc="drafting", unit="%", file=sys.stderr, leave=True,
                      bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:
                def shown(fraction: float, stage: str) -> None:
                    bar.update(max(0, round(fraction * 100) - bar.n))
                    bar.set_postfix_str(stage[:60])

                jobs.build(settings, job["id"], progress=shown)
        else:
            print(f"this file was ingested before for {args.subject}: job {job['id']}", file=sys.stderr)
    except TutorMeshError as exc:
        print(f"tutormesh ingest: {path.name}: {exc.message}", file=sys.stderr)
        return 1
    store = jobs.store_of(settings)
    job, docs = store.job(job["id"]), store.documents(job["id"])
    if job["status"] != "ready" or docs["draft"] is None:
        print(f"tutormesh ingest: the draft was not built ({job['status']}): {job['error'] or job['stage']}",
              file=sys.stderr)
        return 1
    print("\n".join(summary(docs["draft"], docs["dropped_topics"])))
    print(f"\njob {job['id']}: nothing is published yet. Review it at "
          f"http://{settings.api_host}:{settings.api_port}/console/content#job={job['id']}\n"
          f"then publish there, or with: tutormesh content publish {job['id']} --as ADMIN [--cohort C]")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish a reviewed job (names the reviewer: it is recorded as the publisher)."""
    from tutormesh.content import publish
    from tutormesh.core.settings import get_settings

    settings = get_settings()
    try:
        view = publish.publish(settings, args.job, by=_staff_id(settings, args.as_user), cohort=args.cohort)
    except TutorMeshError as exc:
        print(f"tutormesh content publish: {exc.message}", file=sys.stderr)
        return 1
    print(f"published version {view['id']}: topics {', '.join(view['topics'])}"
          + (f"; assignment {view['assignment_id']} for {view['cohort']}" if view["assignment_id"] else ""))
    return 0


def register(subparsers: Any) -> None:
    """Add `ingest` and `content publish` to the `tutormesh` command line."""
    ingest = subparsers.add_parser("ingest", help="turn a tutorial deck into a draft of lessons and items")
    ingest.add_argument("deck", help="a .pdf, .pptx, .md or .docx file")
    ingest.add_argument("--subject", required=True, help="the subject its topics join, e.g. math")
    ingest.add_argument("--cohort", help="the class that gets its assignment when published")
    ingest.add_argument("--as", dest="as_user", help="the teacher or admin uploading it (default: admins only)")
    ingest.set_defaults(func=cmd_ingest)
    content = subparsers.add_parser("content", help="publish reviewed content")
    verbs = content.add_subparsers(dest="verb", required=True)
    pub = verbs.add_parser("publish", help="publish a job's reviewed draft to students")
    pub.add_argument("job", help="the job id `tutormesh ingest` printed")
    pub.add_argument("--as", dest="as_user", required=True, help="the teacher or admin who reviewed it")
    pub.add_argument("--cohort", help="the class that gets the assignment (default: the upload's)")
    pub.set_defaults(func=cmd_publish)
