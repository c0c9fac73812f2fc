"""`tutormesh shards init|status|move`: the operator's side of the shard map (docs/scale-plan.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from tutormesh.core.errors import TutorMeshError
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.shards import ShardRouter, url_env_of


def _router(settings: Settings) -> ShardRouter:
    if not settings.sql_url.startswith("postgresql"):
        raise SystemExit("shards: the directory must be Postgres: set TUTORMESH_DATABASE_URL")
    return ShardRouter(settings.sql_url, ttl_s=settings.shard_map_ttl_s, freeze_wait_s=settings.shard_freeze_wait_s)


def _names(raw: str) -> list[str]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    bad = [n for n in names if not n.replace("_", "").isalnum()]
    if not names or bad:
        raise SystemExit(f"shards: --databases takes names like a,b,c (letters, digits, _); got {raw!r}")
    return names


def prepare_shard(url: str, base: int) -> None:
    """Migrate one shard database to head, seed its curriculum copy and set its id base."""
    from tutormesh.core.checkpoints import open_postgres_saver
    from tutormesh.core.db import _sessionmaker_for, engine_for, migrate
    from tutormesh.core.shard_ops import OWNED_TABLES, set_id_base
    from tutormesh.core.shard_removals import install_removal_triggers
    from tutormesh.tools.store import seed_curriculum

    migrate(url)
    with _sessionmaker_for(url).begin() as session:
        seed_curriculum(session)  # skills and subjects are foreign keys of mastery and plans
    with open_postgres_saver(url):
        pass  # the checkpoint tables, so a move finds them on every database
    with engine_for(url).begin() as c:
        install_removal_triggers(c, [t.name for t in OWNED_TABLES])  # the checkpoint tables are new here
        set_id_base(c, base)


def upgrade_all(settings: Settings, log: Callable[[str], None] = print) -> int:
    """Migrate the database to head; sharded, the directory and every registered shard database.

    Returns the exit code (2: a shard database's URL variable is missing, nothing migrated).
    """
    from sqlalchemy import inspect, select

    from tutormesh.core.db import engine_for
    from tutormesh.core.shards import shard_databases
    from tutormesh.tools.store import prepare_database

    if not settings.shard_databases:
        prepare_database(settings)
        log(f"database at head: {settings.sql_url.split('@')[-1]}")
        return 0
    directory = engine_for(settings.sql_url)
    if not inspect(directory).has_table("shard_databases"):
        log("db upgrade: the directory has no shard map yet: run `tutormesh shards init` first")
        return 2
    with directory.connect() as c:
        registered = [(r.name, r.url_env, r.id_base) for r in c.execute(
            select(shard_databases).order_by(shard_databases.c.name))]
    missing = [env for _, env, _ in registered if not os.environ.get(env)]
    if missing:
        log(f"db upgrade: set {', '.join(missing)} to the database URLs")
        return 2
    prepare_database(settings)
    log(f"directory at head: {settings.sql_url.split('@')[-1]}")
    for name, env, base in registered:
        prepare_shard(os.environ[env], int(base))
        log(f"shard {name} at head")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Register the databases, migrate each one and fill the map round-robin."""
    from tutormesh.core.shard_ops import id_base, init_directory
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    names = _names(args.databases or settings.shard_databases)
    missing = [url_env_of(n) for n in names if not os.environ.get(url_env_of(n))]
    if missing:
        print(f"shards init: set {', '.join(missing)} to the database URLs", file=sys.stderr)
        return 2
    router = _router(settings)
    prepare_database(settings)  # the directory: global rows at head too
    filled = init_directory(router, names)
    for name in names:
        prepare_shard(os.environ[url_env_of(name)], id_base(router, name))
        print(f"{name}: migrated to head, curriculum seeded, ids from {id_base(router, name):,}")
    print("map: 1000 logical shards filled round-robin" if filled else "map: kept (it was already filled)")
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    """Print the map as logical ranges per database, with rows per database and busy shards."""
    from tutormesh.core.shard_ops import status

    router = _router(get_settings())
    info = status(router)
    print(f"shard map epoch {info['epoch']}")
    print(f"{'database':<10} {'logical':>7} {'students':>9} {'attempts':>9} {'checkpoints':>11}  url from")
    for db in info["databases"]:
        print(f"{db.name:<10} {len(db.logical):>7} {db.rows['students']:>9} {db.rows['attempts']:>9} "
              f"{db.rows['checkpoints']:>11}  ${db.url_env}")
        print(f"  shards {db.ranges}")
    for logical, (state, name) in sorted(info["busy"].items()):
        print(f"shard {logical}: {state} (on {name})")
    if not info["busy"]:
        print("all shards active")
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    """Move one logical shard to another database while its students keep working."""
    from tutormesh.core.shard_ops import move

    router = _router(get_settings())
    report = move(router, args.logical, args.to, log=print)
    print(f"moved shard {report.logical} {report.source} -> {report.target}: {report.students} students, "
          f"{report.copied} rows copied, {report.caught_up} caught up, {report.delta} in the final delta, "
          f"{report.deleted} deleted from {report.source}; writers paused {report.pause_s * 1000:.0f} ms; "
          f"{report.total_s:.1f} s in all")
    return 0


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except TutorMeshError as exc:
            print(f"shards: {exc}", file=sys.stderr)
            return 2

    return run


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `shards` to the `tutormesh` command line."""
    shards = subparsers.add_parser("shards", help="shard student data over several Postgres databases")
    sub = shards.add_subparsers(dest="shards_command", required=True)
    init = sub.add_parser("init", help="register databases, migrate each, fill the map round-robin")
    init.add_argument("--databases", help="comma-separated names (default TUTORMESH_SHARD_DATABASES); "
                                          "URLs from TUTORMESH_SHARD_URL_<NAME>")
    init.set_defaults(func=_guarded(cmd_init))
    sub.add_parser("status", help="the map per database, rows per database, shards being moved").set_defaults(
        func=_guarded(cmd_status))
    mv = sub.add_parser("move", help="move one logical shard to another database, online")
    mv.add_argument("logical", type=int, help="logical shard, 0..999")
    mv.add_argument("--to", required=True, help="target database name")
    mv.set_defaults(func=_guarded(cmd_move))
