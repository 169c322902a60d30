"""What the browser tests share: Debian's headless Chromium (driven by Playwright) and the
real service under uvicorn over a seeded SQLite file.

Chromium comes from TIMELINE_CHROMIUM (default /usr/bin/chromium). Without it the browser
tests skip, unless TIMELINE_REQUIRE_BROWSER=1 (as in CI), where they fail instead. The
`browser` fixture itself is in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from seeds import loader
from service import migrate
from service.tokens import create_token
from service.wiring import open_store
from tests.served import Served

CHROMIUM = os.environ.get("TIMELINE_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("TIMELINE_REQUIRE_BROWSER") == "1"

# Instrumentation run before any page script: records key listeners put on the host
# document or window, and CSP violations, so tests can assert there are none.
WATCH = """
window.__hostKeyListeners = [];
window.__cspViolations = [];
const add = EventTarget.prototype.addEventListener;
EventTarget.prototype.addEventListener = function (type, ...rest) {
  const host = this === window || this === document || this === document.documentElement
    || this === document.body;
  if (host && /^key/.test(type)) window.__hostKeyListeners.push(type);
  return add.call(this, type, ...rest);
};
add.call(document, 'securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def playwright_or_skip() -> Any:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM} (set TIMELINE_CHROMIUM)"
    else:
        try:
            from playwright.sync_api import sync_playwright

            return sync_playwright
        except ImportError:
            problem = "playwright is not installed (pip install -e '.[dev]')"
    if REQUIRE_BROWSER:
        pytest.fail(f"TIMELINE_REQUIRE_BROWSER=1 but {problem}")
    pytest.skip(problem)


async def _seed(database_url: str, seeds: list[Path]) -> str:
    store = open_store(database_url, null_pool=True)
    try:
        await loader.load(store, seeds)
        return await create_token(store.engine, "editor")
    finally:
        await store.engine.dispose()


class Service:
    """The real service over a migrated SQLite file with seed facts, on a free loopback port."""

    def __init__(self, directory: Path, seeds: list[Path] | None = None) -> None:
        seeds = loader.default_paths() if seeds is None else seeds
        self.database_url = f"sqlite:///{directory / 'timeline.db'}"
        # in a thread of its own: Playwright's sync API keeps an event loop in this one
        with ThreadPoolExecutor(1) as worker:
            worker.submit(migrate.upgrade, self.database_url).result()
            self.token = worker.submit(asyncio.run, _seed(self.database_url, seeds)).result()
        self.served = Served(self.database_url, directory / "server.log").start()
        self.port, self.url = self.served.port, self.served.base

    def items(self, **params: Any) -> list[dict[str, Any]]:
        """Every item of the timeline API for these filters, following next_cursor."""
        items: list[dict[str, Any]] = []
        params = {"limit": 1000, **params}
        while True:
            page = httpx.get(f"{self.url}/api/v1/timeline", params=params, timeout=30)
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            if not page.json()["next_cursor"]:
                return items
            params["cursor"] = page.json()["next_cursor"]

    def create_fact(self, data: dict[str, Any]) -> None:
        response = httpx.post(
            f"{self.url}/api/v1/facts",
            json=data,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text

    def stop(self) -> None:
        self.served.stop()
