"""CLI sub-commands for one student's data: `tutormesh student export|erase|consent` and retention."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tutormesh.core.errors import TutorMeshError


def cmd_export(args: argparse.Namespace) -> int:
    """Write everything held about a student into one zip archive."""
    from tutormesh.core import privacy
    from tutormesh.core.db import sessionmaker_for
    from tutormesh.core.settings import get_settings
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    prepare_database(settings)
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"tutormesh student export: {out} exists (use --force to replace it)", file=sys.stderr)
        return 1
    try:
        export = privacy.export_student(args.username, settings)
    except TutorMeshError as exc:
        print(f"tutormesh student export: {exc.message}", file=sys.stderr)
        return 1
    privacy.write_archive(export, out)
    privacy.audit(sessionmaker_for(settings), "export", "cli", {"records": _count(export["data"])})
    print(f"exported {args.username} to {out} ({out.stat().st_size} bytes, {_count(export['data'])} records)")
    return 0


def _count(data: dict[str, object]) -> int:
    """Records in an export: list items, one per checkpointed thread, one per single record (account...)."""
    return sum(len(v) if isinstance(v, list) or key == "checkpoints" else int(v is not None)  # type: ignore[arg-type]
               for key, v in data.items())


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase a student from every store, then print what the scan of every store found."""
    from tutormesh.core import privacy
    from tutormesh.core.settings import get_settings
    from tutormesh.tools.store import prepare_database

    if not args.yes:
        print("tutormesh student erase: this cannot be undone; add --yes to confirm", file=sys.stderr)
        return 2
    settings = get_settings()
    prepare_database(settings)
    try:
        report = privacy.erase_student(args.username, settings, actor="cli")
    except TutorMeshError as exc:
        print(f"tutormesh student erase: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(report.as_dict(), indent=2))
    if report.findings:
        print(f"scan: {len(report.findings)} findings remain (see above)", file=sys.stderr)
        return 1
    print(f"scan: no trace of {args.username} in any store (reference {report.reference})", file=sys.stderr)
    return 0


def cmd_consent(args: argparse.Namespace) -> int:
    """Record a student's date-of-birth band and whether a guardian consented."""
    from tutormesh.core import consent
    from tutormesh.core.settings import get_settings
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    prepare_database(settings)
    try:
        state = consent.set_consent(args.username, dob_band=args.dob_band, guardian_consent=args.guardian_consent,
                                    settings=settings, actor="cli")
    except TutorMeshError as exc:
        print(f"tutormesh student consent: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(state))
    return 0


def cmd_prune(_args: argparse.Namespace) -> int:
    """Delete transcripts older than TUTORMESH_TRANSCRIPT_RETENTION_DAYS once."""
    from tutormesh.core import privacy
    from tutormesh.core.settings import get_settings
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    if settings.transcript_retention_days <= 0:
        print("tutormesh retention prune: TUTORMESH_TRANSCRIPT_RETENTION_DAYS is 0 (keep forever)", file=sys.stderr)
        return 1
    prepare_database(settings)
    print(json.dumps(privacy.prune_transcripts(settings)))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `student` and `retention` to the `tutormesh` command line."""
    from tutormesh.core.models.accounts import DOB_BANDS

    student = subparsers.add_parser("student", help="one student's data: export, erase, consent")
    sub = student.add_subparsers(dest="student_command", required=True)
    export = sub.add_parser("export", help="write everything held about a student into one zip archive")
    export.add_argument("username")
    export.add_argument("--out", required=True, help="archive to write (.zip)")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.set_defaults(func=cmd_export)
    erase = sub.add_parser("erase", help="erase a student from every store, then scan every store for traces")
    erase.add_argument("username")
    erase.add_argument("--yes", action="store_true", help="confirm: erasure cannot be undone")
    erase.set_defaults(func=cmd_erase)
    consent = sub.add_parser("consent", help="record a date-of-birth band and guardian consent")
    consent.add_argument("username")
    consent.add_argument("--dob-band", choices=DOB_BANDS)
    consent.add_argument("--guardian-consent", choices=["yes", "no"], help="record or withdraw consent")
    consent.set_defaults(func=cmd_consent)
    retention = subparsers.add_parser("retention", help="transcript retention")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    prune = retention_sub.add_parser("prune", help="delete transcripts older than the retention age, once")
    prune.set_defaults(func=cmd_prune)
