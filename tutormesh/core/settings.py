"""Process-wide settings: the profile (embedded or production) is configuration only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything that differs between a laptop and a cluster, read from `TUTORMESH_*` or `.env`."""

    model_config = SettingsConfigDict(env_prefix="TUTORMESH_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    # Empty: SQLite in data_dir. Production: postgresql+psycopg://user@host/db
    database_url: str = ""
    # Empty: the checkpoint store follows database_url (SQLite file or the same Postgres).
    checkpoint_url: str = ""
    # Apply migrations and seed the curriculum on first use (the embedded default).
    auto_migrate: bool = True
    # Messages kept in graph state; the full history lives in SQL (keeps checkpoints bounded).
    state_message_window: int = 12
    # Keep only the latest checkpoint of a thread after each turn (history is in SQL).
    prune_checkpoints: bool = True
    # Consecutive wrong practice answers on one skill that open a pace negotiation.
    struggle_threshold: int = 3
    # Rounds a negotiation may take before it escalates to a human.
    negotiation_max_rounds: int = 3
    # Days until an agreed adjustment is reviewed.
    negotiation_review_days: int = 7

    @property
    def sql_url(self) -> str:
        """SQLAlchemy URL of the relational store."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'tutormesh.db').resolve()}"

    @property
    def checkpoints_url(self) -> str:
        """Where LangGraph checkpoints live: a Postgres URL or a SQLite file path."""
        url = self.checkpoint_url or self.database_url
        if url.startswith("postgresql"):
            return url
        return str((self.data_dir / "checkpoints.db").resolve())


@lru_cache
def get_settings() -> Settings:
    """Return the settings of this process (tests: `get_settings.cache_clear()`)."""
    return Settings()
