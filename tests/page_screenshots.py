"""The README's pictures of the pages, made in headless Chromium.

`python -m tests.page_screenshots docs` saves docs/workspace-review.png (the Astana
declaration beside its proposals, one of them being worked on),
docs/workspace-conflict.png (a stale edit showing the other editor's change) and
docs/fact-page.png (a fact's public page). The service is the real one over the seed
facts, as in tests/test_workspace_browser.py.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx

from tests.browsing import CHROMIUM, Service
from tests.test_workspace_browser import DECLARATION


def main(folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    text = DECLARATION.read_text()
    with tempfile.TemporaryDirectory() as directory:
        service = Service(Path(directory))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_page(
                    viewport={"width": 1400, "height": 1000}, device_scale_factor=1
                )
                page.goto(f"{service.url}/edit/sign-in")
                page.get_by_label("Write token").fill(service.token)
                page.get_by_role("button", name="Sign in").click()
                page.goto(f"{service.url}/edit/documents/new")
                page.get_by_label("Title").fill(text.split("\n", 1)[0])
                page.get_by_label("Date of the document").fill("2025-05-30")
                page.get_by_label("Text", exact=True).fill(text)
                page.get_by_role("button", name="Read the document").click()
                doc_id = page.url.split("/edit/documents/")[1].split("?")[0]
                # the proposal that conflicts with a stored fact: both side by side
                document = httpx.get(f"{service.url}/api/v1/documents/{doc_id}").json()
                shown = next(
                    p
                    for p in document["proposals"]
                    if (p["match"] or {}).get("relation") in ("conflicts", "refines")
                )
                page.goto(f"{service.url}/edit/documents/{doc_id}#proposal-{shown['id']}")
                page.locator(f"#{shown['id']}-title-en").focus()
                page.locator(f"#proposal-{shown['id']}").evaluate(
                    "card => card.scrollIntoView({block: 'start'})"
                )
                page.screenshot(path=str(folder / "workspace-review.png"), animations="disabled")

                fact_id = "first-central-asia-italy-summit-2025"
                page.goto(f"{service.url}/edit/facts/{fact_id}")
                version = page.locator("input[name=version]").first.input_value()
                httpx.patch(
                    f"{service.url}/api/v1/facts/{fact_id}",
                    json={
                        "status": "held",
                        "tags": ["central-asia-italy", "astana"],
                        "reason": "a tag",
                    },
                    headers={
                        "Authorization": f"Bearer {service.token}",
                        "If-Match": f'"{version}"',
                    },
                ).raise_for_status()
                page.get_by_label("Title (English)").fill("First Central Asia + Italy summit")
                page.get_by_label("Reason for the change").fill("the summit's own name")
                page.get_by_role("button", name="Save the change").click()
                page.screenshot(
                    path=str(folder / "workspace-conflict.png"),
                    animations="disabled",
                    full_page=False,
                )
                reader = browser.new_page(viewport={"width": 900, "height": 900})
                reader.goto(f"{service.url}/facts/first-central-asia-eu-summit-2025?lang=en")
                reader.screenshot(path=str(folder / "fact-page.png"), animations="disabled")
                browser.close()
        finally:
            service.stop()
    names = ("workspace-review.png", "workspace-conflict.png", "fact-page.png")
    print("saved " + ", ".join(str(folder / name) for name in names))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
