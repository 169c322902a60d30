"""Timeline items as TimelineJS3 JSON, so existing TimelineJS embeds can read this service.

TimelineJS dates are a year with an optional month and day: a date keeps its precision by
leaving out what it does not know (March 2018 has no day, 2027 no month). What TimelineJS
cannot express — seasons, "by", "until", "or later", "from", approximate or uncertain
dates — it shows as `display_date`, our own label. In Russian every date naming a month
carries our label too: TimelineJS would name the month in English, or, with its own
`language: 'ru'`, put a month alone in the genitive («СЕНТЯБРЯ 2017»). TimelineJS renders
`headline` and `text` as HTML, so every piece of fact text is escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

import msgspec

from events.dates import parse_edtf
from projections import calendar
from projections.items import Item
from projections.vocabulary import participant_name, status_word, words

# EDTF season code -> (first month, months it lasts); winter runs into the next year.
_SEASON_START = {21: 3, 22: 6, 23: 9, 24: 12}
_TOKEN = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_PLAIN_PRECISIONS = frozenset({"day", "month", "year"})


class TLDate(msgspec.Struct, omit_defaults=True):
    year: int
    month: int | None = None
    day: int | None = None
    display_date: str | None = None


class TLText(msgspec.Struct):
    headline: str
    text: str


class TLEvent(msgspec.Struct, omit_defaults=True):
    unique_id: str
    start_date: TLDate
    text: TLText
    end_date: TLDate | None = None
    display_date: str | None = None


class TLTimeline(msgspec.Struct):
    events: list[TLEvent]
    scale: str = "human"


def _date(token: str, lang: str, *, last: bool = False) -> TLDate:
    """One EDTF single date (no qualifier) as a TimelineJS date of the same precision.

    A season has no TimelineJS form: it becomes its first month (`last`: its last month).
    """
    date = _plain_date(token, last=last)
    if lang != "en" and date.month is not None:  # TimelineJS can name months only in English
        date.display_date = parse_edtf(token).label[lang]
    return date


def _plain_date(token: str, *, last: bool) -> TLDate:
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise ValueError(f"not a single EDTF date: {token!r}")
    year, month, day = int(match[1]), match[2], match[3]
    if month is None:
        return TLDate(year=year)
    unit = int(month)
    if unit in _SEASON_START:
        first = _SEASON_START[unit]
        if not last:
            return TLDate(year=year, month=first)
        extra_year, end_month = divmod(first + 1, 12)
        return TLDate(year=year + extra_year, month=end_month + 1)
    return TLDate(year=year, month=unit, day=int(day) if day else None)


def _is_season(token: str) -> bool:
    match = _TOKEN.fullmatch(token)
    return bool(match and match[2] and int(match[2]) in _SEASON_START)


def dates(edtf: str, label: str, lang: str = "en") -> tuple[TLDate, TLDate | None, str | None]:
    """Start date, end date and display_date for one fact's EDTF date and its label in
    `lang`."""
    start, end, shown = _dates(edtf.strip(), label, lang)
    if shown is None and start.display_date is not None:  # a month named in our words
        shown = label
    return start, end, shown


def _dates(text: str, label: str, lang: str) -> tuple[TLDate, TLDate | None, str | None]:
    if text.startswith("[..") and text.endswith("]"):  # by X: shown at X
        return _date(text[3:-1], lang), None, label
    if text.startswith("[") and text.endswith("..]"):  # X or later
        return _date(text[1:-3], lang), None, label
    if "/" in text:
        first, _, last = text.partition("/")
        if first in ("", ".."):  # until X: no known start, shown at X
            return _date(last, lang), None, label
        if last in ("", ".."):  # from X, open end
            return _date(first, lang), None, label
        start, end = _date(first, lang), _date(last, lang, last=True)
        shown = label if _is_season(first) or _is_season(last) else None
        return start, end, shown
    token = text.rstrip("~?%")
    qualified = token != text
    start = _date(token, lang)
    if _is_season(token):
        end = _date(token, lang, last=True)
        start = msgspec.structs.replace(start, display_date=label)
        return start, end, label
    return start, None, label if qualified else None


def _html(item: Item, lang: str) -> str:
    labels = words(lang).labels
    said = status_word(item.status, lang)
    status = escape(said[:1].upper() + said[1:])  # it begins the event's text
    where = f" · {escape(item.place.name)}" if item.place else ""
    parts = [f"<p><strong>{status}</strong>{where}</p>"]
    if item.summary:
        parts.append(f"<p>{escape(item.summary)}</p>")
    if item.participants:
        names = ", ".join(participant_name(code, lang) for code in item.participants)
        parts.append(f"<p>{labels['participants']}: {escape(names)}</p>")
    if item.sources:
        cited = []
        for source in item.sources:
            title = escape(source.title)
            if source.url:
                title = f'<a href="{escape(source.url)}">{title}</a>'
            detail = ", ".join(str(x) for x in (source.date, source.locator) if x)
            cited.append(f"<li>{title} ({escape(detail)})</li>")
        parts.append(f"<p>{labels['sources']}:</p><ul>{''.join(cited)}</ul>")
    links = [f'<a href="{escape(item.links.page)}">{labels["more"]}</a>']
    if calendar.in_calendars(item.date.start, item.date.end):
        links.append(f'<a href="{escape(item.links.ics)}">{labels["add_to_calendar"]}</a>')
    parts.append(f"<p>{' · '.join(links)}</p>")
    return "".join(parts)


def event(item: Item, lang: str) -> TLEvent:
    start, end, display = dates(item.date.edtf, item.date.label, lang)
    return TLEvent(
        unique_id=item.id,
        start_date=start,
        end_date=end,
        display_date=display,
        text=TLText(headline=escape(item.title), text=_html(item, lang)),
    )


def timelinejs(items: Sequence[Item], lang: str) -> TLTimeline:
    """The TimelineJS3 document for these items, in their order."""
    return TLTimeline(events=[event(item, lang) for item in items])
