"""How a fact reads to a client: one language, derived date fields, links."""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import quote, quote_plus, urlencode

import msgspec

from events.dates import parse_edtf
from events.facts import Fact
from projections.timeline import Key, Row


class DateView(msgspec.Struct):
    edtf: str
    start: str | None
    end: str | None
    precision: str
    label: str


class PlaceView(msgspec.Struct):
    name: str
    country: str | None


class SourceView(msgspec.Struct, omit_defaults=True):
    title: str
    date: dt.date
    locator: str | None = None
    url: str | None = None
    note: str | None = None


class Links(msgspec.Struct):
    self: str
    page: str  # the fact's public page, in the item's language
    ics: str
    webcal: str
    history: str


class Item(msgspec.Struct):
    id: str
    title: str
    summary: str
    kind: str
    status: str
    date: DateView
    place: PlaceView | None
    participants: list[str]
    tags: list[str]
    sources: list[SourceView]
    version: int
    updated_at: str
    links: Links


def page_url(base_url: str, fact_id: str, lang: str) -> str:
    """A fact's public page (service/http/pages.py), in a language: what people follow."""
    return f"{base_url}/facts/{_quoted(fact_id)}?lang={_quoted(lang)}"


def webcal(url: str) -> str:
    """The webcal:// form of a feed URL, which calendar apps open as a subscription."""
    return "webcal://" + url.split("://", 1)[1] if "://" in url else url


def feed_url(base_url: str, **params: str | list[str]) -> str:
    query = urlencode({k: v for k, v in params.items() if v}, doseq=True)
    return f"{base_url}/calendar.ics" + (f"?{query}" if query else "")


# Characters that quote() and quote_plus() never change: fact ids (lowercase slugs) and
# languages are made of them, so their links need no encoding, which costs more than the
# rest of an item (a page has fifty).
_plain = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


def _quoted(text: str) -> str:
    return text if _plain(text) else quote_plus(text)


def item(row: Row, lang: str, base_url: str) -> Item:
    fact: Fact = row.fact()
    bounds = parse_edtf(fact.date.edtf)
    fact_url = f"{base_url}/api/v1/facts/{fact.id if _plain(fact.id) else quote(fact.id)}"
    # The same URL as feed_url(base_url, id=fact.id, lang=lang, precision="any").
    ics = f"{base_url}/calendar.ics?id={_quoted(fact.id)}&lang={_quoted(lang)}&precision=any"
    return Item(
        id=fact.id,
        title=fact.title.get(lang) or fact.title["en"],
        summary=fact.summary.get(lang) or fact.summary["en"],
        kind=fact.kind,
        status=fact.status,
        date=DateView(
            edtf=fact.date.edtf,
            start=row.start,
            end=row.end,
            precision=bounds.precision,
            label=bounds.label[lang],
        ),
        place=(
            PlaceView(
                name=fact.place.name.get(lang) or fact.place.name["en"], country=fact.place.country
            )
            if fact.place
            else None
        ),
        participants=fact.participants,
        tags=fact.tags,
        sources=[
            SourceView(title=s.title, date=s.date, locator=s.locator, url=s.url, note=s.note)
            for s in fact.sources
        ],
        version=row.version,
        updated_at=row.updated_at,
        links=Links(
            self=fact_url,
            page=page_url(base_url, fact.id, lang),
            ics=ics,
            webcal=webcal(ics),
            history=f"{fact_url}/history",
        ),
    )


_encode = msgspec.json.Encoder().encode


class EncodedItems:
    """Items already rendered, as JSON, by fact version, language and base URL.

    A page of the timeline never asked before costs reading its facts' documents, decoding
    them and building and encoding fifty items; a fact's row never changes at a version,
    so each item is rendered once and a new page is mostly a query for keys. Bounded by
    the bytes kept (the least recently used go first), per process.
    """

    def __init__(self, max_bytes: int = 16_000_000) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._kept: OrderedDict[tuple[str, int, str, str], bytes] = OrderedDict()

    def rendered(
        self, keys: Sequence[Key], lang: str, base_url: str
    ) -> tuple[list[bytes | None], list[Key]]:
        """What is kept of each key (None where nothing is), and the keys not kept."""
        found: list[bytes | None] = []
        missing: list[Key] = []
        for key in keys:
            entry = (key[0], key[1], lang, base_url)
            body = self._kept.get(entry)
            if body is None:
                missing.append(key)
            else:
                self._kept.move_to_end(entry)
            found.append(body)
        return found, missing

    def render(self, row: Row, lang: str, base_url: str) -> bytes:
        body = _encode(item(row, lang, base_url))
        entry = (row.fact_id, row.version, lang, base_url)
        if entry not in self._kept and len(body) <= self.max_bytes:
            self._kept[entry] = body
            self.size += _cost(entry, body)
            while self.size > self.max_bytes:
                self.size -= _cost(*self._kept.popitem(last=False))
        return body


def _cost(entry: tuple[str, int, str, str], body: bytes) -> int:
    # The body, the key's own strings (the base URL is one shared string) and about what
    # the dictionary's slot and the tuple take.
    return len(body) + len(entry[0]) + len(entry[2]) + 64
