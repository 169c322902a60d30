"""Settings from TIMELINE_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///timeline.db"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how clients reach the service; defaults to http://HOST:PORT
    workers: int = 1
    # NullPool: a fresh connection per use (tests whose client runs the app on another loop).
    db_null_pool: bool = False
    max_body_bytes: int = 1_000_000
    # The server (service/http/server.py): a request's headers must be in within this time;
    # idle keep-alive connections close after keep_alive_seconds; over max_connections
    # open connections per process (0: no limit) requests get 503.
    header_timeout_seconds: float = 10.0
    keep_alive_seconds: int = 5
    max_connections: int = 1000
    # Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto is believed
    # ("*" for any); none by default: the client is the TCP peer.
    trusted_proxies: str = ""
    # A line per request (service/http/access_log.py); off saves its cost on busy servers.
    access_log: bool = True
    # PostgreSQL: give up connecting, or on one statement, after this long (then 503).
    db_connect_timeout_seconds: float = 5.0
    db_statement_timeout_seconds: float = 30.0
    # PostgreSQL: connections each process keeps open for its requests (as many as it
    # serves at once, so that none is opened and closed per request), and how many more
    # it may open for a moment at a peak.
    db_pool_size: int = 20
    db_pool_overflow: int = 10
    # Scheduled jobs (service/jobs/scheduler.py). On for the service as configured from the
    # environment (TIMELINE_SCHEDULER=off turns it off); off for apps made in code, such
    # as tests, unless they ask for it.
    scheduler: bool = False
    scheduler_retry_seconds: float = 15.0  # how often a standby process tries to take over
    scheduler_lock_file: str = ""  # SQLite only; default: DATABASE.scheduler.lock beside it
    backup_dir: str = "backups"
    backup_keep: int = 7
    # Signs the editors' workspace sessions (service/http/workspace/sessions.py); unset: a random secret
    # per process, so sessions end when it restarts and workers must share one to agree.
    session_secret: str = ""

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for field in msgspec.structs.fields(cls):
            raw = env.get(f"TIMELINE_{field.name.upper()}")
            if raw is not None:
                values[field.name] = raw
        values.setdefault("scheduler", True)
        values.update(overrides)
        # strict=False lets "8000" become an int and "false" a bool.
        values = {k: _bool_word(v) for k, v in values.items()}
        return msgspec.convert(values, cls, strict=False)


def _bool_word(value: object) -> object:
    if isinstance(value, str) and value.lower() in ("on", "yes"):
        return "true"
    if isinstance(value, str) and value.lower() in ("off", "no"):
        return "false"
    return value


PROJECT_ROOT = Path(__file__).resolve().parents[1]
