"""Alembic migrations build the same schema as the models, on SQLite and on Postgres."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from tutormesh.core.db import MIGRATIONS_DIR, engine_for, migrate
from tutormesh.core.models import Base
from tutormesh.core.settings import Settings


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(fresh_profile: Settings) -> None:
    url = fresh_profile.sql_url
    migrate(url)
    engine = engine_for(url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    migrate(url)  # and back up again: migrations are repeatable
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrate_is_idempotent(fresh_profile: Settings) -> None:
    migrate(fresh_profile.sql_url)
    migrate(fresh_profile.sql_url)
    assert "negotiation_messages" in inspect(engine_for(fresh_profile.sql_url)).get_table_names()
