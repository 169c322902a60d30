"""Run the Alembic migrations from code (the CLI and the tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from alembic import command
from alembic.config import Config

from service.settings import PROJECT_ROOT


def _config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["url"] = url
    return config


def _in_own_thread(work: Callable[[], None]) -> None:
    # alembic/env.py runs its own event loop, which cannot start inside a running one
    # (an async caller); a thread of its own works from anywhere.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(url: str, revision: str = "head") -> None:
    _in_own_thread(lambda: command.upgrade(_config(url), revision))


def downgrade(url: str, revision: str) -> None:
    _in_own_thread(lambda: command.downgrade(_config(url), revision))
