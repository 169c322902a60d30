"""The API page at /schema in real headless Chromium: Swagger UI from the service's own
files renders every operation, under the service's CSP, with nothing fetched elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browsing import WATCH, Service


@pytest.fixture(scope="module")
def service(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    served = Service(tmp_path_factory.mktemp("schema-service"), seeds=[])
    yield served
    served.stop()


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_schema_page_renders_every_operation_from_its_own_files(browser, service, path):
    spec = httpx.get(f"{service.url}/schema/openapi.json", timeout=30).json()
    operations = {
        (method.upper(), route) for route, methods in spec["paths"].items() for method in methods
    }
    assert ("GET", "/api/v1/events") in operations and ("POST", "/api/v1/facts") in operations
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: not r.url.startswith((service.url, "data:")) and elsewhere.append(r.url),
    )
    page.add_init_script(WATCH)
    try:
        response = page.goto(f"{service.url}{path}")
        assert response.status == 200
        page.locator(".opblock").first.wait_for(timeout=15_000)
        shown = page.locator(".opblock").evaluate_all(
            "bs => bs.map(b => [b.querySelector('.opblock-summary-method').textContent,"
            " b.querySelector('.opblock-summary-path').dataset.path])"
        )
        assert {tuple(op) for op in shown} == operations
        assert page.locator(".info .title").inner_text().startswith(spec["info"]["title"])
        # an operation opens and shows its parameters
        events = page.locator(".opblock:has(.opblock-summary-path[data-path='/api/v1/events'])")
        events.locator(".opblock-summary").click()
        from playwright.sync_api import expect  # here: the module imports without Playwright

        # (expect waits for the opened block: a bare count could read it before it renders)
        expect(events.locator("tr[data-param-name='after']")).to_have_count(1)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "https:" not in csp  # nothing from elsewhere
        assert page.evaluate("window.__cspViolations") == []
        assert errors == [] and elsewhere == []
    finally:
        context.close()
