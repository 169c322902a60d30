"""The widget in a real browser: Debian's headless Chromium driven by Playwright.

The real service runs under uvicorn (a subprocess) over a seeded SQLite file; the pages
that embed it are served from a second origin, as a site editor's own pages would be.
Chromium comes from TIMELINE_CHROMIUM (default /usr/bin/chromium). Without it these tests
skip, unless TIMELINE_REQUIRE_BROWSER=1 (as in CI), where they fail instead.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.browsing import WATCH, Service
from tests.factories import fact_data
from tests.served import free_port

# --- the service and the host site ----------------------------------------------------------


class HostSite:
    """A second origin serving the pages that embed the widget."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, name: str, body: str) -> str:
        self.pages[f"/{name}"] = body.encode()
        return f"{self.url}/{name}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def host_page(
    service_url: str, attributes: str, *, head: str = "", body_style: str = "", after: str = ""
) -> str:
    """A site editor's page: the snippet from the README between two of the site's own buttons."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Host page</title>
<style>body{{margin:16px;{body_style}}}</style>{head}
<script>document.addEventListener('timeline-ready', (e) => {{ window.__ready = e.detail; }});</script>
<script src="{service_url}/widget.js" defer></script>
</head><body>
<button id="before">Before</button>
<event-timeline {attributes}></event-timeline>{after}
<button id="after">After</button>
</body></html>"""


# --- browser fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    served = Service(tmp_path_factory.mktemp("widget-service"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def seeds_only(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service with the seed facts and no others: for tests that look at the whole set."""
    served = Service(tmp_path_factory.mktemp("seeds-only"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def site(browser: Any) -> Iterator[HostSite]:
    host = HostSite()
    yield host
    host.stop()


class Tab:
    """One browser page that records console errors, uncaught exceptions and CSP violations."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.add_init_script(WATCH)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_function("window.__ready !== undefined", timeout=15_000)

    def shadow(self, script: str) -> Any:
        """Evaluate `script` with `root` bound to the first widget's shadow root."""
        return self.page.evaluate(
            f"(() => {{ const root = document.querySelector('event-timeline').shadowRoot;"
            f" return {script}; }})()"
        )

    def focused_fact(self) -> str | None:
        return self.shadow("root.activeElement && root.activeElement.dataset.factId || null")

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.page.evaluate("window.__cspViolations") == []
        assert self.page.evaluate("window.__hostKeyListeners") == []


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    yield Tab(context.new_page())
    context.close()


def fact_ids(tab: Tab, selector: str = ".facts button") -> list[str]:
    return tab.shadow(f"[...root.querySelectorAll('{selector}')].map(b => b.dataset.factId)")


def widget_for(service: Service, site: HostSite, name: str, attributes: str, **kw: str) -> str:
    return site.page(name, host_page(service.url, attributes, **kw))


# --- tests --------------------------------------------------------------------------------------


def test_the_facts_the_api_returns_are_the_facts_rendered(tab: Tab, service: Service, site):
    url = widget_for(
        service, site, "kz.html", f'src="{service.url}/api/v1/timeline?country=KZ" lang="en"'
    )
    assert not url.startswith(service.url)  # the host page is another origin
    tab.open(url)
    items = service.items(country="KZ", lang="en")
    assert len(items) >= 10
    assert fact_ids(tab) == [i["id"] for i in items]
    rendered = tab.shadow(
        "[...root.querySelectorAll('.facts button')].map(b => ["
        "b.querySelector('.t').textContent, b.querySelector('.d').textContent, b.className])"
    )
    for item, (title, line, classes) in zip(items, rendered, strict=True):
        assert title == item["title"]
        assert line.startswith(item["date"]["label"])
        assert f"s-{item['status']}" in classes.split()
        # ranges and imprecise dates are bars marked approximate; exact days are not
        exact = item["date"]["precision"] == "day" and item["date"]["start"] is not None
        assert ("approx" in classes.split()) == (not exact), item["id"]
    assert tab.page.evaluate("window.__ready.count") == len(items)
    assert tab.shadow("root.querySelector('.count').textContent") == f"{len(items)} events"
    tab.assert_clean()


def test_status_and_imprecise_dates_are_visible(tab: Tab, service: Service, site):
    tab.open(widget_for(service, site, "all.html", 'lang="en"'))  # src from the script's URL
    spring = tab.page.locator(
        "event-timeline .facts button[data-fact-id="
        "'fourth-central-asia-italy-foreign-ministers-conference-2026']"
    )
    assert "spring 2026 · planned" in spring.inner_text()
    year = tab.page.locator(
        "event-timeline button[data-fact-id='next-central-asia-italy-summit-kyrgyzstan-2027']"
    )
    tab.page.locator("event-timeline button.in").click()
    tab.page.locator("event-timeline button.in").click()
    # a season is a bar over its three months, a year a bar over twelve
    season_bar = spring.locator(".mark").bounding_box()["width"]
    year_bar = year.locator(".mark").bounding_box()["width"]
    assert season_bar / year_bar == pytest.approx(92 / 365, rel=0.03)
    assert "approx" in year.get_attribute("class").split()
    until = tab.page.locator(
        "event-timeline button[data-fact-id='central-asia-trade-economic-cooperation-programme-2035']"
    )
    assert "until 2035 · proposed" in until.inner_text()
    assert "open-start" in until.get_attribute("class")
    legend = tab.shadow("[...root.querySelectorAll('.legend button')].map(b => b.textContent)")
    assert {"held", "planned", "proposed"} <= set(legend)
    # the legend filters by status
    tab.page.locator("event-timeline .legend button[data-status='held']").click()
    shown = tab.shadow(
        "[...root.querySelectorAll('.facts li:not([hidden]) button')].map(b => b.className)"
    )
    assert shown and not any("s-held" in c for c in shown)
    tab.assert_clean()


def test_elapsed_facts_say_the_outcome_is_unknown(tab: Tab, service: Service, site):
    service.create_fact(
        fact_data(
            "elapsed-plan-test",
            status="elapsed",
            date={"edtf": "2024-05"},
            participants=["MN"],
            place=None,
            tags=["elapsed-test"],
        )
    )
    tab.open(widget_for(service, site, "elapsed.html", 'tag="elapsed-test" lang="en"'))
    fact = tab.page.locator("event-timeline button[data-fact-id='elapsed-plan-test']")
    assert fact.locator(".d").inner_text() == "May 2024 · date passed, outcome unknown"
    assert "s-elapsed" in fact.get_attribute("class").split()
    legend = tab.shadow("[...root.querySelectorAll('.legend button')].map(b => b.textContent)")
    assert legend == ["date passed, outcome unknown"]
    tab.assert_clean()


def test_country_filter_and_attribute_changes(tab: Tab, service: Service, site):
    tab.open(widget_for(service, site, "filters.html", 'lang="en"'))
    shown = (
        "[...root.querySelectorAll('.facts li:not([hidden]) button')].map(b => b.dataset.factId)"
    )
    # the widget's own country filter narrows what it shows, without a new request
    tab.page.locator("event-timeline select.country").select_option("IT")
    assert tab.shadow(shown) == [i["id"] for i in service.items(country="IT")]
    assert tab.shadow("root.querySelector('.count').textContent").startswith(
        f"{len(service.items(country='IT'))} of "
    )
    # changing the element's attributes fetches the facts they select
    tab.page.evaluate(
        "window.__ready = undefined;"
        "const el = document.querySelector('event-timeline');"
        "el.setAttribute('from', '2025'); el.setAttribute('to', '2025'); el.setAttribute('status', 'held')"
    )
    tab.page.wait_for_function("window.__ready !== undefined")
    expected = service.items(**{"from": "2025-01-01", "to": "2025-12-31", "status": "held"})
    assert fact_ids(tab) == [i["id"] for i in expected]
    tab.assert_clean()


def test_host_styles_and_widget_styles_do_not_leak(tab: Tab, service: Service, site):
    head = "<style>button{background:rgb(0,128,0)!important}.t{color:rgb(0,0,255)}</style>"
    page = host_page(
        service.url,
        'country="KZ"',
        head=head,
        body_style="color:rgb(255,0,0);font-family:serif",
        after='<span class="t" id="t">host text</span>',
    )
    tab.open(site.page("styled.html", page))
    fact = tab.page.locator("event-timeline .facts button").first
    assert fact.evaluate("b => getComputedStyle(b).backgroundColor") != "rgb(0, 128, 0)"
    assert fact.evaluate("b => getComputedStyle(b).color") != "rgb(255, 0, 0)"
    assert fact.evaluate("b => getComputedStyle(b).fontFamily") != "serif"
    # the widget's own rules (.t is bold, buttons have borders) stay inside it
    host_t = tab.page.locator("#t")
    assert host_t.evaluate("e => getComputedStyle(e).fontWeight") == "400"
    assert tab.page.locator("#before").evaluate("b => getComputedStyle(b).backgroundColor") == (
        "rgb(0, 128, 0)"
    )
    tab.assert_clean()


def test_keyboard_moves_between_facts_and_opens_and_closes_the_panel(
    tab: Tab, service: Service, site
):
    tab.open(widget_for(service, site, "keys.html", 'country="KZ" lang="en"'))
    ids = [i["id"] for i in service.items(country="KZ", lang="en")]
    tab.page.locator("#before").focus()
    for _ in range(30):  # Tab through the toolbar to the facts
        tab.page.keyboard.press("Tab")
        if tab.focused_fact():
            break
    assert tab.focused_fact() == ids[0]
    focused = "root.activeElement"
    assert tab.shadow(f"getComputedStyle({focused}).outlineStyle") != "none"  # visible focus
    tab.page.keyboard.press("ArrowRight")
    assert tab.focused_fact() == ids[1]
    tab.page.keyboard.press("ArrowRight")
    tab.page.keyboard.press("ArrowLeft")
    assert tab.focused_fact() == ids[1]
    tab.page.keyboard.press("End")
    assert tab.focused_fact() == ids[-1]
    tab.page.keyboard.press("Home")
    assert tab.focused_fact() == ids[0]
    # only one fact is a Tab stop, so Tab leaves the list instead of visiting every fact
    assert tab.shadow("root.querySelectorAll('.facts button[tabindex=\"0\"]').length") == 1

    tab.page.keyboard.press("ArrowDown")
    tab.page.keyboard.press("Enter")
    panel = tab.page.locator("event-timeline .panel")
    panel.wait_for(state="visible")
    item = service.items(country="KZ", lang="en")[1]
    assert panel.get_attribute("data-fact-id") == ids[1]
    assert panel.locator("h2").inner_text() == item["title"]
    live = tab.shadow("root.querySelector('[aria-live]').textContent")
    assert item["title"] in live and item["date"]["label"] in live
    assert tab.shadow(f"{focused}.getAttribute('aria-expanded')") == "true"

    tab.page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert tab.focused_fact() == ids[1]  # focus goes back to the fact
    assert tab.shadow(f"{focused}.getAttribute('aria-expanded')") == "false"

    # keys pressed outside the widget are not the widget's
    tab.page.locator("#after").focus()
    tab.page.keyboard.press("ArrowRight")
    tab.page.keyboard.press("Enter")
    assert panel.is_hidden()
    assert (
        tab.shadow("root.querySelector('[tabindex=\"0\"][data-fact-id]').dataset.factId")
        == (ids[1])
    )
    tab.assert_clean()  # includes: no key listener on the host document or window


def test_landmark_and_accessible_names(tab: Tab, service: Service, site):
    tab.open(widget_for(service, site, "aria.html", 'country="KZ" lang="ru"'))
    page = tab.page
    region = page.get_by_role("region", name="Хронология")
    assert region.count() == 1
    for name in ("Приблизить", "Отдалить", "Показать весь период", "Списком"):
        assert region.get_by_role("button", name=name).count() == 1
    # a fact is announced by its title, date label and status, not a whole slide of text
    item = service.items(country="KZ", lang="ru")[0]
    fact = region.get_by_role("list", name="События").get_by_role("button").first
    name = fact.evaluate("b => b.textContent")
    assert name == f"{item['title']}{item['date']['label']} · состоялось"
    assert item["summary"] not in name
    tab.assert_clean()


def test_detail_panel_shows_the_fact_and_calendar_links(tab: Tab, service: Service, site):
    tab.open(widget_for(service, site, "panel.html", 'country="UZ" lang="en"'))
    [item] = [
        i
        for i in service.items(country="UZ", lang="en")
        if i["id"] == "first-central-asia-eu-summit-2025"
    ]
    tab.page.locator(f"event-timeline button[data-fact-id='{item['id']}']").click()
    panel = tab.page.locator("event-timeline .panel")
    panel.wait_for(state="visible")
    text = panel.inner_text()
    for expected in (item["title"], item["summary"], item["date"]["label"], "Samarkand"):
        assert expected in text
    assert "Uzbekistan" in text and "European Union" in text  # participants by name
    assert item["sources"][0]["title"] in text
    assert panel.locator("a.ics").get_attribute("href") == item["links"]["ics"]
    # "Details" leads to the fact's public page, which a person can read and share
    page_link = panel.locator("a.page")
    assert page_link.inner_text() == "Details"
    assert page_link.get_attribute("href") == item["links"]["page"]
    public = httpx.get(item["links"]["page"], timeout=30)
    assert public.status_code == 200 and item["title"] in public.text
    subscribe = panel.locator("a.sub").get_attribute("href")
    assert subscribe == f"webcal://127.0.0.1:{service.port}/calendar.ics?country=UZ&lang=en"
    # both links lead to real calendars
    calendar = httpx.get(item["links"]["ics"], timeout=30)
    assert calendar.status_code == 200 and "BEGIN:VEVENT" in calendar.text
    feed = httpx.get(subscribe.replace("webcal://", "http://", 1), timeout=30)
    assert feed.status_code == 200 and feed.text.count("BEGIN:VEVENT") >= 1
    panel.locator("button.close").click()
    panel.wait_for(state="hidden")
    # an open-ended period has no calendar event to add, so no link to one
    tab.page.locator(
        "event-timeline button[data-fact-id='central-asia-trade-economic-cooperation-programme-2035']"
    ).click()
    assert panel.locator("a.ics").is_hidden() and panel.locator("a.sub").is_visible()
    tab.assert_clean()


def test_hostile_fact_text_is_shown_as_text_and_runs_nothing(tab: Tab, service: Service, site):
    title = '<img src=x onerror="window.__xss=1">'
    service.create_fact(
        fact_data(
            "hostile-title-test",
            title={"en": title, "ru": title},
            summary={"en": "<script>window.__xss=2</script>", "ru": "<b>x</b>"},
            place={"name": {"en": "<i>Paris</i>", "ru": "Париж"}, "country": "FR"},
            participants=["FR"],
            tags=["hostile-test"],
        )
    )
    tab.open(widget_for(service, site, "xss.html", 'tag="hostile-test" lang="en"'))
    fact = tab.page.locator("event-timeline button[data-fact-id='hostile-title-test']")
    assert fact.locator(".t").inner_text() == title
    fact.click()
    panel = tab.page.locator("event-timeline .panel")
    assert panel.locator("h2").inner_text() == title
    assert "<script>window.__xss=2</script>" in panel.inner_text()
    assert "<i>Paris</i>" in panel.inner_text()
    assert tab.shadow("root.querySelectorAll('img, script, i, b').length") == 0
    tab.page.wait_for_timeout(200)  # an injected onerror would have fired by now
    assert tab.page.evaluate("window.__xss") is None
    tab.assert_clean()


def test_narrow_screens_get_the_agenda_list(browser, service: Service, site):
    context = browser.new_context(viewport={"width": 390, "height": 800})
    tab = Tab(context.new_page())
    try:
        tab.open(widget_for(service, site, "narrow.html", 'country="KZ"'))
        assert tab.shadow("root.querySelector('.axisview').hidden") is True
        ids = [i["id"] for i in service.items(country="KZ")]
        assert fact_ids(tab, ".listview button") == ids
        years = tab.shadow("[...root.querySelectorAll('.listview h3')].map(h => h.textContent)")
        assert years == sorted(years) and "2025" in years
        tab.page.locator("event-timeline .listview button").nth(2).click()
        assert tab.page.locator("event-timeline .panel").get_attribute("data-fact-id") == ids[2]
        tab.page.keyboard.press("Escape")
        tab.page.locator("event-timeline .toggle").click()  # the reader can switch views
        assert fact_ids(tab) == ids
        tab.assert_clean()
    finally:
        context.close()


def test_zoom_with_buttons_wheel_and_keys(tab: Tab, service: Service, site):
    tab.open(widget_for(service, site, "zoom.html", 'country="KZ"'))
    page = tab.page
    a = page.locator(
        "event-timeline button[data-fact-id='twentieth-central-asia-eu-ministerial-meeting-ashgabat-2025'] .mark"
    )
    b = page.locator(
        "event-timeline button[data-fact-id='seventh-consultative-meeting-central-asia-2025'] .mark"
    )

    def gap() -> float:
        return b.bounding_box()["x"] - a.bounding_box()["x"]

    fitted = gap()
    page.locator("event-timeline button.in").click()
    assert gap() == pytest.approx(fitted * 1.5, rel=0.02)
    page.locator("event-timeline button.out").click()
    assert gap() == pytest.approx(fitted, rel=0.02)

    view = page.locator("event-timeline .axisview").bounding_box()
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_function(
        "document.querySelector('event-timeline').shadowRoot.querySelector('.axisview').scrollLeft > 0"
    )
    assert gap() == pytest.approx(fitted * 1.25, rel=0.02)

    page.locator("event-timeline .facts button").first.focus()
    page.keyboard.press("+")
    assert gap() == pytest.approx(fitted * 1.25 * 1.5, rel=0.02)
    page.keyboard.press("0")
    assert gap() == pytest.approx(fitted, rel=0.02)
    # panning: the Later button scrolls the axis
    page.keyboard.press("+")
    before = tab.shadow("root.querySelector('.axisview').scrollLeft")
    page.locator("event-timeline button.later").click()
    page.wait_for_function(
        f"document.querySelector('event-timeline').shadowRoot.querySelector('.axisview').scrollLeft > {before}"
    )
    tab.assert_clean()


@pytest.mark.parametrize(
    ("motion", "animation"), [("reduce", "none"), ("no-preference", "et-slide")]
)
def test_reduced_motion_is_respected(browser, service: Service, site, motion, animation):
    context = browser.new_context(reduced_motion=motion)
    tab = Tab(context.new_page())
    try:
        tab.open(widget_for(service, site, "motion.html", 'country="KZ"'))
        tab.page.locator("event-timeline .facts button").first.click()
        panel = tab.page.locator("event-timeline .panel")
        assert panel.evaluate("p => getComputedStyle(p).animationName") == animation
        tab.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize(
    ("scheme", "attributes", "background"),
    [
        ("light", "", "rgb(255, 255, 255)"),
        ("dark", "", "rgb(13, 17, 23)"),
        ("dark", 'theme="light"', "rgb(255, 255, 255)"),
        ("light", 'theme="dark"', "rgb(13, 17, 23)"),
    ],
)
def test_light_and_dark(browser, service: Service, site, scheme, attributes, background):
    context = browser.new_context(color_scheme=scheme)
    tab = Tab(context.new_page())
    try:
        tab.open(
            widget_for(
                service,
                site,
                f"theme-{scheme}-{len(attributes)}.html",
                f'country="KZ" {attributes}',
            )
        )
        assert (
            tab.shadow("getComputedStyle(root.querySelector('.root')).backgroundColor")
            == background
        )
        tab.assert_clean()
    finally:
        context.close()


def test_css_custom_properties_and_height(tab: Tab, service: Service, site):
    head = "<style>event-timeline{--et-bg:rgb(250,240,230);--et-font:monospace}</style>"
    tab.open(
        site.page("custom.html", host_page(service.url, 'country="KZ" height="300"', head=head))
    )
    root = "getComputedStyle(root.querySelector('.root'))"
    assert tab.shadow(f"{root}.backgroundColor") == "rgb(250, 240, 230)"
    assert tab.shadow(f"{root}.fontFamily") == "monospace"
    assert tab.page.locator("event-timeline").bounding_box()["height"] == 300
    tab.assert_clean()


def test_embed_page_in_an_iframe_from_oembed(tab: Tab, service: Service, site):
    embed = f"{service.url}/embed?country=KZ&lang=ru"
    oembed = httpx.get(
        f"{service.url}/oembed", params={"url": embed, "maxwidth": 600, "maxheight": 400}
    ).json()
    assert oembed["type"] == "rich" and (oembed["width"], oembed["height"]) == (600, 400)
    page = site.page(
        "framed.html",
        f'<!doctype html><html><head><link rel="icon" href="data:,"></head><body>{oembed["html"]}</body></html>',
    )
    tab.page.goto(page)
    frame_element = tab.page.locator("iframe")
    box = frame_element.bounding_box()
    assert (box["width"], box["height"]) == (600, 400)
    frame = tab.page.frame_locator("iframe")
    items = service.items(country="KZ", lang="ru")
    frame.locator("event-timeline .facts button, event-timeline .listview button").first.wait_for()
    ids = frame.locator("event-timeline .facts button").evaluate_all(
        "bs => bs.map(b => b.dataset.factId)"
    )
    assert ids == [i["id"] for i in items]
    assert frame.locator("event-timeline .facts button .t").first.inner_text() == items[0]["title"]
    frame.locator("event-timeline .facts button").first.click()
    assert frame.locator("event-timeline .panel h2").inner_text() == items[0]["title"]
    [child] = [f for f in tab.page.frames if f.url.startswith(service.url)]
    assert child.evaluate("window.__cspViolations") == []  # the page's CSP lets the widget work
    tab.assert_clean()


def test_embed_page_advertises_oembed_and_it_answers(tab: Tab, service: Service):
    response = tab.page.goto(f"{service.url}/embed?country=KG&tag=borders")
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    link = tab.page.locator('link[rel="alternate"][type="application/json+oembed"]')
    answer = tab.page.request.get(link.get_attribute("href"))
    assert answer.ok
    body = answer.json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    canonical = tab.page.locator('link[rel="canonical"]').get_attribute("href")
    assert f'src="{html.escape(canonical)}"' in body["html"]
    tab.page.locator("event-timeline .facts button").first.wait_for()
    tab.assert_clean()


def test_arrow_keys_with_the_panel_open_show_the_next_fact_in_it(tab: Tab, service: Service, site):
    tab.open(widget_for(service, site, "panel-keys.html", 'country="KZ" lang="en"'))
    items = service.items(country="KZ", lang="en")
    tab.page.locator(f"event-timeline .facts button[data-fact-id='{items[1]['id']}']").click()
    panel = tab.page.locator("event-timeline .panel")
    panel.wait_for(state="visible")
    assert panel.get_attribute("data-fact-id") == items[1]["id"]
    tab.page.keyboard.press("ArrowRight")
    assert tab.focused_fact() == items[2]["id"]
    assert panel.get_attribute("data-fact-id") == items[2]["id"]
    assert panel.locator("h2").inner_text() == items[2]["title"]
    expanded = tab.shadow(
        "[...root.querySelectorAll('.facts button[aria-expanded=\"true\"]')]"
        ".map(b => b.dataset.factId)"
    )
    assert expanded == [items[2]["id"]]
    tab.page.keyboard.press("End")
    assert panel.locator("h2").inner_text() == items[-1]["title"]
    tab.page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert tab.focused_fact() == items[-1]["id"]
    tab.assert_clean()


def test_embed_page_country_list_names_what_it_shows(tab: Tab, service: Service):
    tab.page.goto(f"{service.url}/embed?country=KZ&lang=en")
    tab.page.locator("event-timeline .facts button").first.wait_for()
    options = tab.shadow(
        "[...root.querySelectorAll('select.country option')].map(o => [o.value, o.textContent])"
    )
    # it shows only facts with Kazakhstan: its first choice says so, not "All countries"
    assert options[0] == ["", "Kazakhstan (KZ)"]
    assert "All countries" not in [text for _, text in options]
    assert "KZ" not in [value for value, _ in options]  # no second choice meaning the same
    assert len(options) > 2 and tab.page.locator("event-timeline select.country").is_visible()
    unfiltered = Tab(tab.page.context.new_page())
    unfiltered.page.goto(f"{service.url}/embed?lang=en")
    unfiltered.page.locator("event-timeline .facts button").first.wait_for()
    first = unfiltered.shadow("root.querySelector('select.country option').textContent")
    assert first == "All countries"
    tab.assert_clean()
    unfiltered.assert_clean()


def test_a_bad_embed_link_shows_a_sentence_in_the_frame(tab: Tab, service: Service, site):
    page = site.page(
        "bad-embed.html",
        f'<!doctype html><html><head><link rel="icon" href="data:,"></head><body>'
        f'<iframe src="{service.url}/embed?country=XX" width="600" height="300"></iframe>'
        f"</body></html>",
    )
    with tab.page.expect_response(lambda r: "/embed?" in r.url) as answer:
        tab.page.goto(page)
    assert answer.value.status == 400
    body = tab.page.frame_locator("iframe").locator("body")
    assert body.inner_text() == "This timeline cannot be shown: country: 'XX' is not a known value."


# --- sizing, range and readability (issue 16) -------------------------------------------------

# Each shown fact of the current view: whether it is wholly inside the view's visible box,
# and whether its top is below that box's bottom.
IN_VIEW = """(() => {
  const root = document.querySelector('event-timeline').shadowRoot;
  const view = [...root.querySelectorAll('.view')].find(v => !v.hidden);
  const box = view.getBoundingClientRect();
  const bottom = box.top + view.clientHeight, right = box.left + view.clientWidth;
  return [...view.querySelectorAll('li:not([hidden]) > button')].map(b => {
    const r = b.getBoundingClientRect();
    return {id: b.dataset.factId, whole: r.top >= box.top - 0.5 && r.bottom <= bottom + 0.5
      && r.left >= box.left - 0.5 && r.right <= right + 0.5, below: r.top >= bottom - 0.5};
  });
})()"""


def test_default_height_follows_the_facts_with_a_sign_of_more(tab: Tab, seeds_only: Service, site):
    tab.open(widget_for(seeds_only, site, "height-all.html", 'lang="en"'))
    facts = tab.page.evaluate(IN_VIEW)
    assert len(facts) == len(seeds_only.items())
    height = tab.page.locator("event-timeline").bounding_box()["height"]
    assert 480 < height <= 720  # taller than the old fixed box, up to the limit
    # no row is cut: every fact is wholly in view or wholly below it
    assert all(f["whole"] or f["below"] for f in facts), facts
    below = [f for f in facts if f["below"]]
    assert below and sum(f["whole"] for f in facts) > 9
    more = tab.page.locator("event-timeline .more")
    assert more.is_visible() and more.inner_text() == f"↓ {len(below)} more"
    more.click()
    tab.page.wait_for_function(
        "document.querySelector('event-timeline').shadowRoot.querySelector('.axisview').scrollTop > 0"
    )
    tab.page.wait_for_timeout(600)  # the smooth scroll ends
    assert all(
        f["whole"] for f in tab.page.evaluate(IN_VIEW) if f["id"] in {b["id"] for b in below}
    )
    assert more.is_hidden()  # nothing left below
    tab.assert_clean()

    # a few facts: a box as tall as they need, and no sign of more
    few = seeds_only.items(country="IT")
    tab.open(widget_for(seeds_only, site, "height-few.html", 'country="IT" lang="en"'))
    facts = tab.page.evaluate(IN_VIEW)
    assert len(facts) == len(few) and all(f["whole"] for f in facts)
    assert tab.page.locator("event-timeline").bounding_box()["height"] < 480
    assert tab.page.locator("event-timeline .more").is_hidden()
    tab.assert_clean()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_title_can_be_read_in_the_axis(tab: Tab, seeds_only: Service, site, lang):
    tab.open(widget_for(seeds_only, site, f"titles-{lang}.html", f'lang="{lang}"'))
    titles = {i["id"]: i["title"] for i in seeds_only.items(lang=lang)}
    clipped = """b => { const t = b.querySelector('.t'), li = b.parentElement.getBoundingClientRect();
      const r = t.getBoundingClientRect();
      return t.scrollHeight > t.clientHeight + 1 || t.scrollWidth > t.clientWidth + 1
        || r.bottom > li.bottom + 0.5 || r.right > li.right + 0.5; }"""
    lines = "b => Math.round(b.querySelector('.t').getBoundingClientRect().height / 17.5)"
    for fact_id, title in titles.items():
        button = tab.page.locator(f"event-timeline .facts button[data-fact-id='{fact_id}']")
        assert button.locator(".t").inner_text() == title
        # up to two lines show at rest; a title longer than that shows whole on hover and focus
        if len(title) <= 40:
            assert not button.evaluate(clipped), title
        else:
            assert button.evaluate(lines) == 2, title
        button.focus()
        assert not button.evaluate(clipped), title
        tab.page.locator("#after").focus()
        button.hover()
        assert not button.evaluate(clipped), title
    tab.assert_clean()


def test_axis_spans_from_and_to_and_open_ends_fade_past_its_edges(
    tab: Tab, seeds_only: Service, site
):
    tab.open(widget_for(seeds_only, site, "year.html", 'from="2025" to="2025" lang="en"'))
    ticks = tab.shadow("[...root.querySelectorAll('.tick')].map(t => t.textContent)")
    assert ticks and all(t.endswith("2025") for t in ticks), ticks
    assert ticks[0] == "Jan 2025" and ticks[-1] == "Dec 2025"
    view = tab.page.locator("event-timeline .axisview").bounding_box()
    marks = tab.shadow(
        "[...root.querySelectorAll('.facts button:not(.open-start):not(.open-end) .mark')]"
        ".map(m => m.getBoundingClientRect().x)"
    )
    assert max(marks) - min(marks) > 0.5 * view["width"]  # the year's facts spread over it
    until = tab.page.locator(
        "event-timeline button[data-fact-id='central-asia-trade-economic-cooperation-programme-2035']"
    )
    assert {"open-start", "open-end"} <= set(until.get_attribute("class").split())
    bar = until.locator(".mark").bounding_box()
    assert bar["x"] + bar["width"] <= view["x"] + view["width"]  # cut at the edge, not beyond
    tab.assert_clean()

    # without from/to the axis spans the facts whose both ends are known: "until 2035"
    # fades out past the end instead of stretching the axis to 2036
    tab.open(widget_for(seeds_only, site, "open-ends.html", 'lang="en"'))
    years = [
        int(t) for t in tab.shadow("[...root.querySelectorAll('.tick')].map(t => t.textContent)")
    ]
    closed = [i for i in seeds_only.items() if i["date"]["start"] and i["date"]["end"]]
    last = max(int(i["date"]["end"][:4]) for i in closed)
    assert max(years) <= last + 1 and min(years) >= 2017, years
    assert "open-end" in until.get_attribute("class").split()
    assert tab.shadow("root.querySelector('.axisview').scrollWidth") == tab.shadow(
        "root.querySelector('.axisview').clientWidth"
    )  # fitted: nothing sticks out past the end
    tab.assert_clean()


def test_narrow_russian_agenda_keeps_its_controls_small(browser, seeds_only: Service, site):
    context = browser.new_context(viewport={"width": 390, "height": 800})
    tab = Tab(context.new_page())
    try:
        tab.open(widget_for(seeds_only, site, "narrow-ru.html", 'lang="ru"'))
        rows = """sel => new Set([...root.querySelectorAll(sel + ' > *')]
          .map(c => c.getBoundingClientRect()).filter(r => r.width)
          .map(r => Math.round(r.top + r.height / 2))).size"""  # rows of centred controls
        assert tab.shadow(f"({rows})('.bar')") == 1  # count, country list and view toggle
        assert tab.shadow("root.querySelector('.legend').offsetHeight") <= 60  # two rows of 24 px
        facts = tab.page.evaluate(IN_VIEW)
        assert sum(f["whole"] for f in facts) >= 5
        assert tab.page.locator("event-timeline .more").inner_text() == (
            f"↓ ещё {sum(not f['whole'] for f in facts)}"
        )
        # the 2035 programme's panel: nothing in it is cut or runs past its edge
        tab.page.locator(
            "event-timeline .listview button[data-fact-id="
            "'central-asia-trade-economic-cooperation-programme-2035']"
        ).click()
        panel = tab.page.locator("event-timeline .panel")
        panel.wait_for(state="visible")
        tab.page.wait_for_timeout(400)  # the slide-in ends
        overflowing = panel.evaluate(
            """p => { const box = p.getBoundingClientRect();
              return [p, ...p.querySelectorAll('*')].filter(x => x.scrollWidth > x.clientWidth + 1
                && getComputedStyle(x).overflowX !== 'visible'
                || x.getBoundingClientRect().right > box.right + 0.5).map(x => x.outerHTML.slice(0, 80)); }"""
        )
        assert overflowing == []
        note = panel.locator("dd .d")
        assert note.count() >= 1 and "proposed" in note.first.inner_text()
        tab.assert_clean()
    finally:
        context.close()
