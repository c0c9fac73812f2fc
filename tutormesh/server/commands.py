"""CLI sub-commands of the server: `tutormesh serve` and `tutormesh user add|list|delete|passwd|import`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from tutormesh.core.errors import TutorMeshError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from tutormesh.core.stores.accounts import AccountStore


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API (and, per profile, its helpers) under the supervisor until Ctrl-C."""
    from tutormesh.core.settings import get_settings
    from tutormesh.server.supervisor import serve

    overrides = {k: v for k, v in (("api_host", args.host), ("api_port", args.port),
                                   ("api_workers", args.workers)) if v is not None}
    settings = get_settings().model_copy(update=overrides)
    return serve(settings)


def _read_password() -> str:
    password = os.environ.get("TUTORMESH_PASSWORD")
    if password:
        return password
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise TutorMeshError("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user_add(args: argparse.Namespace) -> int:
    """Create a user; the password comes from TUTORMESH_PASSWORD or stdin."""
    from tutormesh.core.db import sessionmaker_for
    from tutormesh.core.settings import get_settings
    from tutormesh.core.stores.accounts import AccountStore, check_user_fields
    from tutormesh.server.security import check_password_strength, hash_password
    from tutormesh.tools.store import prepare_database

    try:
        check_user_fields(args.name, args.role, args.cohort)
        password = _read_password()
        check_password_strength(password)
        settings = get_settings()
        prepare_database(settings)
        user = AccountStore(sessionmaker_for(settings)).create_user(args.name, hash_password(password), args.role,
                                                                   args.cohort)
    except TutorMeshError as exc:
        print(f"tutormesh user add: {exc.message}", file=sys.stderr)
        return 1
    print(f"created {user['role']} {args.name} (id {user['id']})")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """List users (id, role, cohort, username)."""
    from tutormesh.core.db import sessionmaker_for
    from tutormesh.core.settings import get_settings
    from tutormesh.core.stores.accounts import AccountStore
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    prepare_database(settings)
    for user in AccountStore(sessionmaker_for(settings)).list_users(args.role, args.cohort):
        print(f"{user['id']}  {user['role']:<8} {user['cohort'] or '-':<12} {user['username']}")
    return 0


def _accounts() -> tuple[AccountStore, sessionmaker[Session]]:
    from tutormesh.core.db import sessionmaker_for
    from tutormesh.core.settings import get_settings
    from tutormesh.core.stores.accounts import AccountStore
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    prepare_database(settings)
    sessions = sessionmaker_for(settings)
    return AccountStore(sessions), sessions


def cmd_user_unlock(args: argparse.Namespace) -> int:
    """Lift a sign-in lockout (too many failed sign-ins) of a username."""
    store, _ = _accounts()
    locked = store.clear_failed_logins(args.name)
    print(f"unlocked {args.name}" if locked else f"{args.name} was not locked (failed sign-ins cleared)")
    return 0


def cmd_user_delete(args: argparse.Namespace) -> int:
    """Delete a login by username and erase its learner data."""
    store, _ = _accounts()
    try:
        found = store.credentials(args.name)
        if found is None:
            raise TutorMeshError(f"no user {args.name!r}")
        store.delete_user(found[0]["id"])
    except TutorMeshError as exc:
        print(f"tutormesh user delete: {exc.message}", file=sys.stderr)
        return 1
    print(f"deleted {found[0]['role']} {args.name} (their learner data erased)")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    """Set a user's password (from TUTORMESH_PASSWORD or stdin)."""
    from tutormesh.server.security import check_password_strength, hash_password

    store, _ = _accounts()
    try:
        found = store.credentials(args.name)
        if found is None:
            raise TutorMeshError(f"no user {args.name!r}")
        password = _read_password()
        check_password_strength(password)
        store.update_user(found[0]["id"], password_hash=hash_password(password))
    except TutorMeshError as exc:
        print(f"tutormesh user passwd: {exc.message}", file=sys.stderr)
        return 1
    print(f"password changed for {args.name}")
    return 0


def cmd_user_import(args: argparse.Namespace) -> int:
    """Check (default) or import (`--apply`) a CSV roster: every row or none."""
    import json
    from pathlib import Path

    from tutormesh.server import roster
    from tutormesh.server.security import hash_password

    _, sessions = _accounts()
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8-sig")
        result = roster.run(sessions, text, apply=args.apply, hash_password=hash_password)
    except (TutorMeshError, UnicodeDecodeError) as exc:
        print(f"tutormesh user import: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    for error in result["errors"]:
        print(f"line {error['line']}: {error['username'] or '-'}: {error['error']}", file=sys.stderr)
    if result["errors"]:
        print(f"{len(result['errors'])} of {result['rows']} rows have errors: nothing imported", file=sys.stderr)
        return 1
    if not args.apply:
        print(f"{result['rows']} rows are valid (dry run: run again with --apply to import)")
        return 0
    for user in result["created"]:
        print(json.dumps(user))
    print(f"imported {len(result['created'])} users", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `serve` and `user` to the `tutormesh` command line."""
    serve = subparsers.add_parser("serve", help="run the API and web chat (and their helper processes)")
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1; TUTORMESH_API_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000; TUTORMESH_API_PORT)")
    serve.add_argument("--workers", type=int, help="uvicorn worker processes (default 1; TUTORMESH_API_WORKERS)")
    serve.set_defaults(func=cmd_serve)
    user = subparsers.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a user (password from TUTORMESH_PASSWORD or stdin)")
    add.add_argument("name", help="username (letters, digits, _ . @ -)")
    add.add_argument("--role", required=True, choices=["student", "teacher", "tutor", "admin"])
    add.add_argument("--cohort", help="cohort (class) name; teachers see their cohort's students")
    add.set_defaults(func=cmd_user_add)
    listing = user_sub.add_parser("list", help="list users")
    listing.add_argument("--role", choices=["student", "teacher", "tutor", "admin"])
    listing.add_argument("--cohort")
    listing.set_defaults(func=cmd_user_list)
    unlock = user_sub.add_parser("unlock", help="lift a lockout after too many failed sign-ins")
    unlock.add_argument("name", help="username")
    unlock.set_defaults(func=cmd_user_unlock)
    delete = user_sub.add_parser("delete", help="delete a login and erase its learner data")
    delete.add_argument("name")
    delete.set_defaults(func=cmd_user_delete)
    passwd = user_sub.add_parser("passwd", help="set a password (from TUTORMESH_PASSWORD or stdin)")
    passwd.add_argument("name")
    passwd.set_defaults(func=cmd_user_passwd)
    imp = user_sub.add_parser("import", help="check a CSV roster, or import it with --apply (all rows or none)")
    imp.add_argument("file", help="CSV with a header: username,role,cohort[,password,display_name]; - for stdin")
    imp.add_argument("--apply", action="store_true", help="write the users (default: dry run)")
    imp.set_defaults(func=cmd_user_import)
