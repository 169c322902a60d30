"""Public HTML pages: the home page and a page for every fact, readable and shareable.

Server-rendered with Litestar's Jinja2 templating (service/templates/); no script of
their own but the widget on the home page. Each fact page says what the JSON item says,
in one language, plus schema.org `Event` JSON-LD with the honest date (a month is a month,
never an invented day), OpenGraph and Twitter-card tags for link previews, and
`<link rel="alternate">` to the JSON and the iCalendar event.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.response import Template

from events.dates import DateBounds, parse_edtf
from events.decider import stream_id
from events.facts import FACT_ID, MAX_ID
from projections import timeline
from projections.items import Item, feed_url, item, page_url, webcal
from projections.vocabulary import event_word, participant_name, status_word, words
from service.http.conditional import READ
from service.http.embed import WIDGET_PATH
from service.http.params import base_url, choose_lang

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
STYLES = (Path(__file__).resolve().parents[1] / "static" / "pages.css").read_bytes()
# The pages load nothing but their own stylesheet (and, at /, the widget and its data).
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HOME_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# The pages' own words; a fact's field labels, statuses and events are the vocabulary's.
_PAGE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "tagline": "Summits, treaties and ministerial meetings of Central Asian states, "
        "held and planned, each dated at the precision its source gives.",
        "history": "History",
        "subscribe": "Subscribe to the timeline",
        "json": "This fact as JSON",
        "other": "Русский",
        "gone": "This fact was retracted",
        "gone_detail": "It is no longer part of the timeline. Its history remains readable:",
        "missing": "No such fact",
        "missing_detail": "The timeline has no fact with this address.",
        "home": "The timeline",
        "timeline": "Timeline",
        "subscribe_how": "Subscribe in Google Calendar, Apple Calendar, Outlook or "
        "Thunderbird with this address:",
        "embed_how": "Put the timeline on your own page:",
        "query_how": "Query the timeline API:",
        "api_doc": "API description",
        "no_calendar": "An open-ended period has no place in a calendar.",
    },
    "ru": {
        "tagline": "Саммиты, договоры и министерские встречи государств Центральной Азии, "
        "состоявшиеся и запланированные, с датами той точности, что дает источник.",
        "history": "История",
        "subscribe": "Подписаться на хронологию",
        "json": "Этот факт в JSON",
        "other": "English",
        "gone": "Этот факт отозван",
        "gone_detail": "Он больше не входит в хронологию. Его история доступна:",
        "missing": "Такого факта нет",
        "missing_detail": "В хронологии нет факта с таким адресом.",
        "home": "Хронология",
        "timeline": "Хронология",
        "subscribe_how": "Подпишитесь в Google Календаре, Apple Календаре, Outlook или "
        "Thunderbird по этому адресу:",
        "embed_how": "Разместите хронологию на своей странице:",
        "query_how": "Запросите API хронологии:",
        "api_doc": "Описание API",
        "no_calendar": "У открытого периода нет места в календаре.",
    },
}
WORDS = {lang: {**words(lang).labels, **own} for lang, own in _PAGE_WORDS.items()}
# schema.org's eventStatus for each status; "held" and "elapsed" were scheduled events.
_EVENT_STATUS = {
    "held": "EventScheduled",
    "planned": "EventScheduled",
    "elapsed": "EventScheduled",
    "proposed": "EventScheduled",
    "postponed": "EventPostponed",
    "cancelled": "EventCancelled",
}


def _iso(bounds: DateBounds, side: str) -> str | None:
    """A bound at the date's own precision (ISO 8601 allows 2018-03 and 2027): no
    invented day. Seasons give their first and last months."""
    day = bounds.start if side == "start" else bounds.end
    if day is None:
        return None
    if bounds.precision in ("by", "after", "until", "from"):
        # An open range: its known side at that date's own precision ([..2026] → 2026).
        known = re.sub(r"[\[\]]|\.\.", "", bounds.edtf).strip("/")
        return _iso(parse_edtf(known), side)
    if bounds.precision == "day":
        return day.isoformat()
    if bounds.precision in ("month", "season"):
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}"


def json_ld(view: Item, bounds: DateBounds, url: str, lang: str) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": view.title,
        "description": view.summary,
        "url": url,
        "inLanguage": lang,
        "eventStatus": f"https://schema.org/{_EVENT_STATUS.get(view.status, 'EventScheduled')}",
    }
    start, end = _iso(bounds, "start"), _iso(bounds, "end")
    if start:
        data["startDate"] = start
    if end and end != start:
        data["endDate"] = end
    if view.place is not None:
        place: dict[str, Any] = {"@type": "Place", "name": view.place.name}
        if view.place.country:
            place["address"] = {"@type": "PostalAddress", "addressCountry": view.place.country}
        data["location"] = place
    # "<" escaped so that no text can close the script element it sits in.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _history(recorded: list[Any], lang: str) -> list[dict[str, str | None]]:
    out = []
    for r in recorded:
        out.append(
            {
                "when": r.recorded_at[:10],
                "what": event_word(r.type, lang),
                "actor": r.actor,
                "reason": r.reason,
            }
        )
    return out


def _html(
    template: str, context: dict[str, Any], *, status: int = 200, csp: str = PAGE_CSP
) -> Template:
    return Template(
        template_name=template,
        context=context,
        status_code=status,
        media_type=MediaType.HTML,
        headers={"Content-Security-Policy": csp, "Vary": "Accept-Language"},
    )


def _check_id(fact_id: str) -> bool:
    return len(fact_id) <= MAX_ID and FACT_ID.fullmatch(fact_id) is not None


@get(
    "/facts/{fact_id:str}", opt=READ, summary="A fact's public page (HTML)", include_in_schema=False
)
async def fact_page(
    request: Request, state: State, fact_id: str, lang: str | None = None
) -> Template:
    language = choose_lang(lang, request.headers.get("accept-language"))
    base = base_url(state)
    common = {"lang": language, "words": WORDS[language], "base": base}
    row = await state.database.run(timeline.fact_row, fact_id) if _check_id(fact_id) else None
    if row is None:
        return _html("missing.html.jinja2", common, status=404)
    if row.retracted:
        history = f"{base}/api/v1/facts/{fact_id}/history"
        return _html("gone.html.jinja2", {**common, "history": history}, status=410)
    view = item(row, language, base)
    bounds = parse_edtf(view.date.edtf)
    url = page_url(base, fact_id, language)
    recorded = await state.store.read_stream(stream_id(fact_id))
    closed = bounds.start is not None and bounds.end is not None
    other = "ru" if language == "en" else "en"
    context = {
        **common,
        "fact": view,
        "url": url,
        "other_url": page_url(base, fact_id, other),
        "other_lang": other,
        "status_word": status_word(view.status, language),
        "place": (
            f"{view.place.name}, {participant_name(view.place.country, language)}"
            if view.place and view.place.country
            else view.place.name
            if view.place
            else None
        ),
        "participants": [participant_name(code, language) for code in view.participants],
        "ics": view.links.ics if closed else None,
        "webcal": view.links.webcal if closed else None,
        "subscribe": webcal(feed_url(base, lang=language, precision="any")),
        "history": _history(recorded, language),
        "json_ld": json_ld(view, bounds, url, language),
        "locale": "ru_RU" if language == "ru" else "en_GB",
    }
    return _html("fact.html.jinja2", context)


@get("/", opt=READ, summary="The home page (HTML)", include_in_schema=False)
async def home(request: Request, state: State, lang: str | None = None) -> Template:
    language = choose_lang(lang, request.headers.get("accept-language"))
    base = base_url(state)
    context = {
        "lang": language,
        "words": WORDS[language],
        "base": base,
        "widget_script": f"{base}{WIDGET_PATH}",
        "feed": webcal(feed_url(base, lang=language)),
        "other_url": f"{base}/?lang={'ru' if language == 'en' else 'en'}",
    }
    return _html("home.html.jinja2", context, csp=HOME_CSP)


@get("/pages.css", media_type="text/css", summary="The pages' styles", include_in_schema=False)
async def styles() -> Response[bytes]:
    return Response(
        STYLES, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


ROUTES = [home, fact_page, styles]
