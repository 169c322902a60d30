"""The fact: what the timeline shows, and the rules every fact's fields obey.

A fact arrives as JSON (API, seed files, JSON Lines); msgspec decodes it into these
Structs, rejecting unknown fields, and `validate_fact` applies the rules msgspec's
type system cannot say (codes, slugs, real dates).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated

import msgspec
import pycountry

from events.dates import DateBounds, InvalidDate, parse_edtf

LANGUAGES = ("en", "ru")
# Anchored with \A and \Z, not ^ and $: `$` also matches before a final newline, so
# "x\n" would pass a `.match` and then break the Location header it ends up in.
FACT_ID = re.compile(r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z")
MAX_ID = 100
MAX_TITLE = 300
MAX_SUMMARY = 5000
MAX_TEXT = 1000

KINDS = frozenset(
    {
        "summit",
        "meeting",
        "conference",
        "treaty",
        "agreement",
        "roundtable",
        "initiative",
        "programme",
        "document",
        "visit",
        "forum",
        "election",
        "other",
    }
)
# "elapsed" is set by the scheduler when a plan's whole window has passed unrecorded.
STATUSES = frozenset({"held", "planned", "proposed", "postponed", "cancelled", "elapsed"})

# Organisations that take part in facts alongside states (ISO 3166-1 alpha-2 codes), by
# codes no state has: "AU" is Australia, so the African Union has no code here (no source
# names it yet). Their names are in projections/vocabulary.py.
ORGANISATIONS = frozenset(
    {
        "EU",  # European Union
        "UN",  # United Nations
        "CIS",  # Commonwealth of Independent States
        "SCO",  # Shanghai Cooperation Organisation
        "CSTO",  # Collective Security Treaty Organisation
        "EAEU",  # Eurasian Economic Union
        "OSCE",  # Organization for Security and Co-operation in Europe
        "OTS",  # Organization of Turkic States
        "CICA",  # Conference on Interaction and Confidence-Building Measures in Asia
        "ECO",  # Economic Cooperation Organization
        "NATO",
        "ASEAN",
        "OIC",  # Organisation of Islamic Cooperation
        "EBRD",
        "ADB",  # Asian Development Bank
        "WB",  # World Bank
        "IMF",
        "IFAS",  # International Fund for Saving the Aral Sea
    }
)
COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
TAG = re.compile(r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# The JSON Schema pattern (ECMA semantics: `$` is the very end); `validate_sources`
# checks the same with fullmatch, since msgspec's re.search lets "…\n" through `$`.
URL_PATTERN = r"^https?://\S+$"
URL = re.compile(r"https?://\S+")
# C0 and C1 controls, DEL, and the line and paragraph separators: no stored text has them
# but line breaks in text that may span lines. Strict iCalendar parsers refuse a whole
# feed over one of them, and PostgreSQL refuses NUL outright.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
LINE_BREAK = re.compile(r"[\n\r]")
# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): one in
# a place name would reorder the service's own text around it wherever it is shown. The
# marks U+200E, U+200F and U+061C change nothing beyond themselves and stay allowed.
BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Characters that draw nothing although Unicode files them as letters (Hangul fillers,
# the blank Braille pattern); with spaces, format and combining characters they cannot
# make a text on their own.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me", "Cn"})

Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
LangMap = dict[str, str]


class FactError(ValueError):
    """A fact breaks a rule; `field` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DateInput(msgspec.Struct, forbid_unknown_fields=True):
    edtf: Annotated[str, msgspec.Meta(max_length=64)]


class Place(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: LangMap
    country: str | None = None


class Source(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Text
    date: dt.date
    locator: Text | None = None
    url: Annotated[str, msgspec.Meta(max_length=2000, pattern=URL_PATTERN)] | None = None
    note: Text | None = None


class Fact(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    id: str
    title: LangMap
    summary: LangMap
    kind: str
    status: str
    date: DateInput
    place: Place | None = None
    participants: list[str] = msgspec.field(default_factory=list)
    tags: list[str] = msgspec.field(default_factory=list)
    sources: list[Source] = msgspec.field(default_factory=list)

    def bounds(self) -> DateBounds:
        return parse_edtf(self.date.edtf)


def validate_id(fact_id: str) -> None:
    if len(fact_id) > MAX_ID:
        raise FactError("id", f"is {len(fact_id)} characters long; at most {MAX_ID} are allowed")
    if not FACT_ID.fullmatch(fact_id):
        raise FactError(
            "id", f"{fact_id!r} must be lowercase letters, digits and single hyphens (a slug)"
        )


def visible(text: str) -> bool:
    """Whether the text shows anything: not only spaces, format or combining characters."""
    return any(
        unicodedata.category(c) not in _INVISIBLE_CATEGORIES and c not in _BLANK_LETTERS
        for c in text
    )


def validate_text(field: str, text: str, max_length: int, *, lines: bool = False) -> None:
    """The rules of every stored text: something visible, no control characters, no
    bidirectional overrides, and line breaks only where `lines` allows them."""
    if not visible(text):
        raise FactError(field, "must not be empty")
    if len(text) > max_length:
        raise FactError(field, f"is {len(text)} characters; at most {max_length}")
    if CONTROL.search(text):
        raise FactError(field, "contains control characters")
    if not lines and LINE_BREAK.search(text):
        raise FactError(field, "must be one line (no line breaks)")
    if BIDI_CONTROL.search(text):
        raise FactError(
            field,
            "contains bidirectional embedding, override or isolate characters (U+202A-U+202E, U+2066-U+2069)",
        )


def validate_langmap(
    field: str, value: LangMap, max_length: int, *, complete: bool, lines: bool = False
) -> None:
    """A language map needs every language of LANGUAGES (unless it is a partial patch)."""
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise FactError(
                f"{field}.{lang}", f"unknown language; use one of {', '.join(LANGUAGES)}"
            )
        validate_text(f"{field}.{lang}", text, max_length, lines=lines)
    if complete:
        missing = [lang for lang in LANGUAGES if lang not in value]
        if missing:
            raise FactError(f"{field}.{missing[0]}", "is required")


def validate_country(field: str, code: str) -> None:
    if code not in COUNTRIES:
        raise FactError(field, f"{code!r} is not an ISO 3166-1 alpha-2 country code")


def validate_participants(participants: list[str]) -> None:
    if len(participants) > 100:
        raise FactError("participants", "at most 100 participants")
    for i, code in enumerate(participants):
        if code not in COUNTRIES and code not in ORGANISATIONS:
            raise FactError(
                f"participants[{i}]",
                f"{code!r} is neither an ISO 3166-1 alpha-2 country code nor a known "
                f"organisation ({', '.join(sorted(ORGANISATIONS))})",
            )
    if len(set(participants)) != len(participants):
        raise FactError("participants", "lists a participant twice")


def validate_tags(tags: list[str]) -> None:
    if len(tags) > 50:
        raise FactError("tags", "at most 50 tags")
    for i, tag in enumerate(tags):
        if len(tag) > 50 or not TAG.fullmatch(tag):
            raise FactError(
                f"tags[{i}]", f"{tag!r} must be a lowercase slug of at most 50 characters"
            )
    if len(set(tags)) != len(tags):
        raise FactError("tags", "lists a tag twice")


def validate_date(date: DateInput) -> DateBounds:
    try:
        return parse_edtf(date.edtf)
    except InvalidDate as exc:
        raise FactError("date.edtf", str(exc)) from None


def validate_kind(kind: str) -> None:
    if kind not in KINDS:
        raise FactError("kind", f"{kind!r} is not one of {', '.join(sorted(KINDS))}")


def validate_status(status: str) -> None:
    if status not in STATUSES:
        raise FactError("status", f"{status!r} is not one of {', '.join(sorted(STATUSES))}")


def validate_place(place: Place | None) -> None:
    if place is None:
        return
    validate_langmap("place.name", place.name, MAX_TEXT, complete=True)
    if place.country is not None:
        validate_country("place.country", place.country)


def validate_sources(sources: list[Source]) -> None:
    if len(sources) > 50:
        raise FactError("sources", "at most 50 sources")
    for i, source in enumerate(sources):
        validate_text(f"sources[{i}].title", source.title, MAX_TEXT)
        if source.locator is not None:
            validate_text(f"sources[{i}].locator", source.locator, MAX_TEXT)
        if source.note is not None:
            validate_text(f"sources[{i}].note", source.note, MAX_TEXT, lines=True)
        if source.url is not None and not URL.fullmatch(source.url):
            raise FactError(f"sources[{i}].url", "must be an http:// or https:// URL")


def validate_reason(reason: str | None) -> None:
    """Why an event was recorded (stored with it): the rules of any text, on several lines."""
    if reason is not None:
        validate_text("reason", reason, MAX_TEXT, lines=True)


def validate_fact(fact: Fact) -> DateBounds:
    """Check every rule; return the date's bounds. Raises FactError naming the field."""
    validate_id(fact.id)
    validate_langmap("title", fact.title, MAX_TITLE, complete=True)
    validate_langmap("summary", fact.summary, MAX_SUMMARY, complete=True, lines=True)
    validate_kind(fact.kind)
    validate_status(fact.status)
    bounds = validate_date(fact.date)
    validate_place(fact.place)
    validate_participants(fact.participants)
    validate_tags(fact.tags)
    validate_sources(fact.sources)
    return bounds
