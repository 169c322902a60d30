"""Date expressions in Russian and English text, as EDTF with what was inferred.

Written here rather than taken from dateparser or natasha: both turn every date into a
full datetime (or a partial one with no ranges), so "весной 2026 года", "3-4 апреля",
"к 2026 году" or "in the first half of 2026" come out as invented days or not at all.
This grammar keeps exactly the precision the text gives and says what it completed.

Decisions (the EDTF subset is events/dates.py's):
- halves and quarters are not in the subset: they become month intervals
  (second half of 2026 -> 2026-07/2026-12, precision month);
- "mid-2025", "в начале 2026 года", "в конце марта" keep the year or month the text names:
  early/mid/late never invent a narrower span;
- «до конца года», "by the end of 2026" -> [..YYYY]: on or before the year's last day,
  which is what the text says, without claiming December as the month;
- «зимой 2025 года», "in winter 2025" are ambiguous (January–February 2025 or
  December 2025: EDTF 2025-24 would mean December 2025 to February 2026), and both
  readings lie within 2025, so they are kept as the year 2025 with a note; a winter that
  names both years («зимой 2025/2026 года», "winter 2025–26") is the season 2025-24;
- a day, month or quarter without a year, a dateline, and relative expressions
  («в следующем году», "last year", «этого месяца») are completed from the document's
  own date (never from today) and flagged in `inferred`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Literal, TypeAlias

import msgspec

from events.dates import InvalidDate, parse_edtf

YEAR_FROM_DOCUMENT = "year from the document's date"
MONTH_FROM_DOCUMENT = "month from the document's date"
RELATIVE_TO_DOCUMENT = "relative to the document's date"
DATELINE = "date from the report's dateline"
WEEKDAY_YEAR = "year from the weekday the text gives, nearest the document's date"
WINTER_AS_YEAR = "winter of a single year is January–February or December: kept as the year"


class DateMention(msgspec.Struct, frozen=True, kw_only=True):
    start: int  # offset of the expression in the text searched
    end: int
    text: str  # the exact expression
    edtf: str
    inferred: tuple[str, ...] = ()


_RU_MONTHS_GEN = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
_RU_MONTHS_LOC = [
    "январе",
    "феврале",
    "марте",
    "апреле",
    "мае",
    "июне",
    "июле",
    "августе",
    "сентябре",
    "октябре",
    "ноябре",
    "декабре",
]
_RU_MONTHS_NOM = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
]
_EN_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_EN_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8}
_EN_ABBR |= {"sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}

_MONTH_NUMBER: dict[str, int] = {}
for _names in (_RU_MONTHS_GEN, _RU_MONTHS_LOC, _RU_MONTHS_NOM, _EN_MONTHS):
    _MONTH_NUMBER |= {name: i + 1 for i, name in enumerate(_names)}
_MONTH_NUMBER |= _EN_ABBR

_SEASON_CODE = {
    "весной": 21,
    "весна": 21,
    "летом": 22,
    "лето": 22,
    "осенью": 23,
    "осень": 23,
    "зимой": 24,
    "зима": 24,
    "весну": 21,
    "зиму": 24,
    "spring": 21,
    "summer": 22,
    "autumn": 23,
    "fall": 23,
    "winter": 24,
}

_ORDINAL = {
    "перв": 1,
    "втор": 2,
    "трет": 3,
    "четверт": 4,
    "четвёрт": 4,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
}

_RELATIVE_YEAR = {
    "этого": 0,
    "этом": 0,
    "текущего": 0,
    "текущем": 0,
    "нынешнего": 0,
    "следующего": 1,
    "следующем": 1,
    "будущего": 1,
    "будущем": 1,
    "наступающем": 1,
    "прошлого": -1,
    "прошлом": -1,
    "минувшего": -1,
    "минувшем": -1,
    "this": 0,
    "next": 1,
    "last": -1,
    "past": -1,
    "coming": 1,
}


def _alt(words: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_D = r"(?:[012]?[1-9]|[123]0|31)"  # a day of the month, 1–31
_DASH = r"\s*[-–—]\s*"
_Y = r"(?:1[89]|2[01])\d\d"  # a year, 1800–2199: keeps "3000 участников" out
_RU_YW = r"\s*(?:год(?:а|у|ом|ах|ов|ы)?|гг?\.)(?![а-яё])"  # "года", "году", "г.", "гг."
_RU_REL = _alt([k for k in _RELATIVE_YEAR if re.fullmatch("[а-яё]+", k)])
_RU_GEN = rf"(?:{_alt(_RU_MONTHS_GEN)})(?![а-яё])"
_RU_LOC = rf"(?:{_alt(_RU_MONTHS_LOC)})(?![а-яё])"
_RU_NOM = rf"(?:{_alt(_RU_MONTHS_NOM)})(?![а-яё])"
_EN_MON = rf"(?:(?:{_alt(_EN_MONTHS)})(?![a-z])|(?:{_alt(_EN_ABBR)})(?:\.|(?![a-z])))"

# Russian year tail: "2025 года" or "следующего года"; named groups y / ry.
_RU_YEAR_TAIL = rf"(?:(?P<y>{_Y}){_RU_YW}|(?P<ry>{_RU_REL})\s+года)"
_RU_YEAR_TAIL2 = rf"(?:(?P<y2>{_Y}){_RU_YW}|(?P<ry2>{_RU_REL})\s+года)"

# Words before a date that open or qualify it: group names say what they make.
_RU_PREFIX = re.compile(
    r"(?:(?P<by>(?:к|не\s+позднее|до\s+конца|к\s+концу))"
    r"|(?P<until>(?:(?:в|на)\s+период\s+)?(?:до|вплоть\s+до|по))"
    r"|(?P<after>не\s+ранее)"
    r"|(?P<from>(?:начиная\s+)?со?)"
    r"|(?P<approx>около|примерно|приблизительно|ориентировочно|порядка)"
    r"|(?P<uncertain>предположительно|вероятно|возможно))\s+\Z",
    re.IGNORECASE,
)
_EN_PREFIX = re.compile(
    r"(?:(?P<by>by(?:\s+the\s+end\s+of)?|no\s+later\s+than|not\s+later\s+than)"
    r"|(?P<until>until|till|up\s+to|through)"
    r"|(?P<after>no\s+earlier\s+than|not\s+earlier\s+than)"
    r"|(?P<from>from|since|starting(?:\s+(?:in|from))?|as\s+of)"
    r"|(?P<approx>around|about|circa|approximately|roughly)"
    r"|(?P<uncertain>possibly|presumably|probably|tentatively|reportedly))\s+"
    r"(?:(?:on|in)\s+)?\Z",
    re.IGNORECASE,
)
_RU_QUALIFIER_WORDS = re.compile(
    r"(?P<uncertain>предположительно|вероятно|возможно)[,\s]+(?:[а-яё]+\s+){0,3}\Z",
    re.IGNORECASE,
)
_EN_QUALIFIER_WORDS = re.compile(
    r"(?P<uncertain>possibly|presumably|probably|tentatively|reportedly)[,\s]+"
    r"(?:[a-z]+\s+){0,3}\Z",
    re.IGNORECASE,
)


class _Span:
    """A date expression being built: its single dates (EDTF) and what was completed."""

    __slots__ = ("first", "inferred", "last", "prefixable")

    def __init__(self, first: str, last: str | None = None, *, prefixable: bool = True) -> None:
        self.first, self.last = first, last
        self.inferred: list[str] = []
        self.prefixable = prefixable


def _year(match: re.Match[str], doc: dt.date, span_inferred: list[str], suffix: str = "") -> int:
    """The year a match names: a digit year, a relative one («следующего года»), or the doc's."""
    digits = match.groupdict().get("y" + suffix)
    if digits:
        return int(digits)
    relative = match.groupdict().get("ry" + suffix)
    if relative:
        span_inferred.append(RELATIVE_TO_DOCUMENT)
        return doc.year + _RELATIVE_YEAR[relative.lower()]
    span_inferred.append(YEAR_FROM_DOCUMENT)
    return doc.year


def _day(y: int, m: int, d: int) -> str:
    dt.date(y, m, d)  # ValueError for 31 April
    return f"{y:04d}-{m:02d}-{d:02d}"


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# --- rules: each is (pattern, builder(match, document_date) -> _Span | None) -----------


def _month_no(name: str) -> int:
    return _MONTH_NUMBER[name.lower().rstrip(".")]


def _day_range(m: re.Match[str], doc: dt.date) -> _Span:
    """Two days, each with its month (the first may borrow the second's)."""
    inferred: list[str] = []
    has_year2 = m.groupdict().get("y2") or m.groupdict().get("ry2")
    y2 = _year(m, doc, inferred, "2")
    m2 = _month_no(m["m2"])
    m1 = _month_no(m["m1"]) if m.groupdict().get("m1") else m2
    if m.groupdict().get("y") or m.groupdict().get("ry"):
        y1 = _year(m, doc, inferred)
    else:
        y1 = y2 - 1 if m1 > m2 else y2  # "30 декабря – 2 января 2026 года"
    if not has_year2:
        inferred = [YEAR_FROM_DOCUMENT]
    span = _Span(_day(y1, m1, int(m["d1"])), _day(y2, m2, int(m["d2"])))
    span.inferred = inferred
    return span


_WEEKDAYS = {
    **dict.fromkeys(("monday", "понедельник"), 0),
    **dict.fromkeys(("tuesday", "вторник"), 1),
    **dict.fromkeys(("wednesday", "среду", "среда"), 2),
    **dict.fromkeys(("thursday", "четверг"), 3),
    **dict.fromkeys(("friday", "пятницу", "пятница"), 4),
    **dict.fromkeys(("saturday", "субботу", "суббота"), 5),
    **dict.fromkeys(("sunday", "воскресенье"), 6),
}


def _single_day(m: re.Match[str], doc: dt.date) -> _Span:
    inferred: list[str] = []
    year = _year(m, doc, inferred)
    month, day = _month_no(m["m"]), int(m["d"])
    weekday = m.groupdict().get("wd")
    if weekday and YEAR_FROM_DOCUMENT in inferred:
        # "on Thursday, November 6" names its year by the weekday: the document's year, or
        # the one before or after it when only that one has that weekday on that day
        wanted = _WEEKDAYS[weekday.lower()]
        for candidate in (year, year - 1, year + 1):
            try:
                if dt.date(candidate, month, day).weekday() == wanted:
                    if candidate != year:
                        inferred = [WEEKDAY_YEAR]
                    year = candidate
                    break
            except ValueError:
                continue
    span = _Span(_day(year, month, day))
    span.inferred = inferred
    return span


def _season(m: re.Match[str], doc: dt.date) -> _Span:
    inferred: list[str] = []
    code = _SEASON_CODE[m["s"].lower()]
    year = _year(m, doc, inferred)
    if code == 24 and not m.groupdict().get("next"):
        inferred.append(WINTER_AS_YEAR)
        span = _Span(f"{year:04d}")
    else:
        span = _Span(f"{year:04d}-{code}")
    span.inferred = inferred
    return span


def _part_of_year(m: re.Match[str], doc: dt.date) -> _Span:
    """A half or quarter, as the interval of its months (the EDTF subset has neither)."""
    inferred: list[str] = []
    year = _year(m, doc, inferred)
    n = next(v for k, v in _ORDINAL.items() if m["n"].lower().startswith(k))
    months = 6 if m["unit"].lower().startswith(("полов", "half")) else 3
    if months == 6 and n > 2:
        n = 0
    if not n:
        raise ValueError("no such half")
    first = (n - 1) * months + 1
    span = _Span(f"{year:04d}-{first:02d}", f"{year:04d}-{first + months - 1:02d}")
    span.inferred = inferred
    return span


def _quarter_q(m: re.Match[str], doc: dt.date) -> _Span:
    inferred: list[str] = []
    year = _year(m, doc, inferred)
    first = (int(m["n"]) - 1) * 3 + 1
    span = _Span(f"{year:04d}-{first:02d}", f"{year:04d}-{first + 2:02d}")
    span.inferred = inferred
    return span


def _year_only(m: re.Match[str], doc: dt.date) -> _Span:
    inferred: list[str] = []
    year = _year(m, doc, inferred)
    span = _Span(f"{year:04d}")
    span.inferred = inferred
    return span


def _year_range(m: re.Match[str], _doc: dt.date) -> _Span:
    return _Span(m["y"], m["y2"], prefixable=False)


def _end_of_year(m: re.Match[str], doc: dt.date) -> _Span:
    inferred: list[str] = []
    year = _year(m, doc, inferred)
    span = _Span(f"[..{year:04d}]", prefixable=False)
    span.inferred = inferred
    return span


# What makes a rule's match a span: a function of the match and the document's date, or
# the name of one _build makes with more (the language, the text around the match).
_Builder: TypeAlias = (
    Callable[[re.Match[str], dt.date], _Span] | Literal["month", "numeric", "relmonth", "enyear"]
)

_RU_IN = r"(?:(?:в|во)\s+)?"
_RU_PART = r"(?:(?:начале|середине|конце|первой\s+половине|второй\s+половине)\s+)"
_RU_RULES: list[tuple[str, _Builder]] = [
    # с 30 мая по 1 июня 2026 года; с 30 мая 2025 года по 1 июня 2026 года
    (
        rf"\bс\s+(?P<d1>{_D})\s+(?P<m1>{_RU_GEN})(?:\s+{_RU_YEAR_TAIL})?\s+по\s+"
        rf"(?P<d2>{_D})\s+(?P<m2>{_RU_GEN})(?:\s+{_RU_YEAR_TAIL2})?",
        _day_range,
    ),
    # 31 августа – 1 сентября (2025 года)
    (
        rf"\b(?P<d1>{_D})\s+(?P<m1>{_RU_GEN})(?:\s+{_RU_YEAR_TAIL})?{_DASH}"
        rf"(?P<d2>{_D})\s+(?P<m2>{_RU_GEN})(?:\s+{_RU_YEAR_TAIL2})?",
        _day_range,
    ),
    # 3-4 апреля 2025 года; 3 и 4 апреля
    (
        rf"\b(?P<d1>{_D})(?:{_DASH}|\s+и\s+|\s+по\s+)(?P<d2>{_D})\s+(?P<m2>{_RU_GEN})"
        rf"(?:\s+{_RU_YEAR_TAIL2})?",
        _day_range,
    ),
    # 30 мая 2025 года; 16 ноября; (в четверг,) 6 ноября
    (
        r"\b(?:(?:во?\s+)?(?P<wd>понедельник|вторник|среду|четверг|пятницу|субботу|"
        rf"воскресенье),?\s+)?(?P<d>{_D})\s+(?P<m>{_RU_GEN})(?:\s+{_RU_YEAR_TAIL})?",
        _single_day,
    ),
    # в феврале–марте 2026 года; в марте 2018 года; в начале февраля; в марте
    (
        rf"\b{_RU_IN}(?:(?P<m>{_RU_LOC})(?:{_DASH}(?P<m2>{_RU_LOC}))?|{_RU_PART}(?P<mg>{_RU_GEN}))"
        rf"(?:\s+{_RU_YEAR_TAIL})?(?![а-яё])",
        "month",
    ),
    # на март 2026 года; на конец ноября (after «намечен», «перенесен», «запланировано»)
    (
        rf"\bна\s+(?:(?P<m>{_RU_NOM})(?:{_DASH}(?P<m2>{_RU_NOM}))?"
        rf"|(?:начало|середину|конец)\s+(?P<mg>{_RU_GEN}))(?:\s+{_RU_YEAR_TAIL})?(?![а-яё])",
        "month",
    ),
    # 20.05.2025
    (rf"\b(?P<d>{_D})\.(?P<mo>0?[1-9]|1[012])\.(?P<y>{_Y})(?!\d)", "numeric"),
    # в первом квартале (2026 года); во второй половине 2026 года
    (
        rf"\b{_RU_IN}(?P<n>первом|втором|третьем|четвертом|четвёртом|первой|второй)\s+"
        rf"(?P<unit>квартале|половине)(?:\s+{_RU_YEAR_TAIL}|\s+года)?",
        _part_of_year,
    ),
    # весной 2026 года; зимой 2025/2026 года
    (
        rf"\b(?:на\s+)?(?P<s>весной|летом|осенью|зимой|весну|лето|осень|зиму)\s+(?:(?P<y>{_Y})(?:\s*[/–—-]\s*(?P<next>{_Y}))?"
        rf"{_RU_YW}|(?P<ry>{_RU_REL})\s+года)",
        _season,
    ),
    # до конца года; к концу 2026 года
    (
        rf"\b(?:до\s+конца|к\s+концу)\s+(?:{_RU_YEAR_TAIL}|(?:этого\s+)?года)",
        _end_of_year,
    ),
    # в 2024–2026 годах; с 2025 по 2027 год
    (rf"\b{_RU_IN}(?:с\s+)?(?P<y>{_Y})(?:{_DASH}|\s+по\s+)(?P<y2>{_Y}){_RU_YW}", _year_range),
    # в 2027 году; в начале 2026 года; в следующем году; в прошлом году
    (
        rf"\b{_RU_IN}(?:(?:начале|середине|конце|течение)\s+)?"
        rf"(?:(?P<y>{_Y}){_RU_YW}|(?P<ry>{_RU_REL})\s+год[ау]?(?![а-яё]))",
        _year_only,
    ),
    # этого месяца; в следующем месяце
    (
        rf"\b(?:{_RU_IN}(?P<rm>этом|следующем|прошлом|текущем)\s+месяце"
        rf"|(?:{_RU_IN}(?:начале|середине|конце)\s+)?"
        rf"(?P<rm2>этого|следующего|прошлого|текущего)\s+месяца)",
        "relmonth",
    ),
]

_EN_YEAR_TAIL = rf"(?:,?\s+(?P<y>{_Y})(?![\d–-])|\s+(?P<ry>this|next|last)\s+year)"
_EN_YEAR_TAIL2 = rf"(?:,?\s+(?P<y2>{_Y})(?![\d–-])|\s+(?P<ry2>this|next|last)\s+year)"
_EN_WEEKDAY = r"(?:(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?"
_EN_RULES: list[tuple[str, _Builder]] = [
    # from 30 May to 1 June 2026; between 3 and 4 April
    (
        rf"\b(?:from|between)\s+(?P<d1>{_D})\s+(?P<m1>{_EN_MON})(?:{_EN_YEAR_TAIL})?\s+"
        rf"(?:to|and|until)\s+(?P<d2>{_D})\s+(?P<m2>{_EN_MON})(?:{_EN_YEAR_TAIL2})?",
        _day_range,
    ),
    # 30 May – 1 June 2026
    (
        rf"\b(?P<d1>{_D})\s+(?P<m1>{_EN_MON})(?:{_EN_YEAR_TAIL})?{_DASH}"
        rf"(?P<d2>{_D})\s+(?P<m2>{_EN_MON})(?:{_EN_YEAR_TAIL2})?",
        _day_range,
    ),
    # May 30 – June 1, 2026
    (
        rf"\b(?P<m1>{_EN_MON})\s+(?P<d1>{_D})(?:{_EN_YEAR_TAIL})?{_DASH}"
        rf"(?P<m2>{_EN_MON})\s+(?P<d2>{_D})(?:{_EN_YEAR_TAIL2})?",
        _day_range,
    ),
    # 3–4 April 2025; 3 and 4 April
    (
        rf"\b(?:between\s+)?(?P<d1>{_D})(?:{_DASH}|\s+and\s+|\s+to\s+)(?P<d2>{_D})\s+"
        rf"(?P<m2>{_EN_MON})(?:{_EN_YEAR_TAIL2})?",
        _day_range,
    ),
    # December 19–20(, 2025)
    (
        rf"\b(?P<m2>{_EN_MON})\s+(?P<d1>{_D})(?:{_DASH}|\s+and\s+|\s+to\s+)(?P<d2>{_D})"
        rf"(?![\d:])(?:{_EN_YEAR_TAIL2})?",
        _day_range,
    ),
    # (on Thursday,) 13 March 2025
    (
        rf"\b{_EN_WEEKDAY}(?P<d>{_D})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m>{_EN_MON})"
        rf"(?:{_EN_YEAR_TAIL})?",
        _single_day,
    ),
    # (on Thursday,) November 6(, 2025)
    (
        rf"\b{_EN_WEEKDAY}(?P<m>{_EN_MON})\s+(?P<d>{_D})(?:st|nd|rd|th)?(?![\d:])"
        rf"(?:{_EN_YEAR_TAIL})?",
        _single_day,
    ),
    # 20.05.2025 (day first)
    (rf"\b(?P<d>{_D})\.(?P<mo>0?[1-9]|1[012])\.(?P<y>{_Y})(?!\d)", "numeric"),
    # in the first half of 2026; in the third quarter
    (
        r"\b(?:in\s+|during\s+)?(?:the\s+)?(?P<n>first|second|third|fourth|1st|2nd|3rd|4th)\s+"
        rf"(?P<unit>half|quarter)(?:\s+(?:of\s+)?(?:(?P<y>{_Y})|(?P<ry>this|next|last)\s+year"
        r"|the\s+year)|(?!\s+of\b))",
        _part_of_year,
    ),
    (rf"\b(?:in\s+)?Q(?P<n>[1-4])\s+(?P<y>{_Y})", _quarter_q),
    # in spring 2026; in the spring of 2026; winter 2025–26
    (
        r"\b(?:in\s+|during\s+)?(?:the\s+)?(?P<s>spring|summer|autumn|fall|winter)\s+(?:of\s+)?"
        rf"(?:(?P<y>{_Y})(?:\s*[/–—-]\s*(?P<next>\d\d(?:\d\d)?))?|(?P<ry>this|next|last)\s+year)",
        _season,
    ),
    # in February–March 2026; in March 2018; in early February
    (
        rf"\b(?:in\s+|during\s+)?(?:(?:early|mid|late|the\s+(?:beginning|middle|end)\s+of)[-\s]+)?"
        rf"(?P<m>{_EN_MON})(?:{_DASH}(?P<m2>{_EN_MON}))?(?:{_EN_YEAR_TAIL})?(?![\w-])",
        "month",
    ),
    # by the end of the year / of 2026
    (
        r"\bby\s+the\s+end\s+of\s+(?:(?P<y>" + _Y + r")|(?P<ry>this|next|last)\s+year|the\s+year)",
        _end_of_year,
    ),
    # in 2024–2026; between 2024 and 2026; from 2025 to 2027
    (
        rf"\b(?:(?:in|during)\s+)?(?:between\s+|from\s+)?(?P<y>{_Y})"
        rf"(?:{_DASH}|\s+(?:and|to|through)\s+)(?P<y2>{_Y})(?!\d)",
        _year_range,
    ),
    # in 2027; in mid-2025; in early 2026
    (
        r"\b(?:(?:in|during)\s+)?(?:(?:early|mid|late|the\s+(?:beginning|middle|end)\s+of)"
        rf"[-\s]+)?(?P<y>{_Y})(?![\d%])(?!\s*(?:percent|per\s+cent))",
        "enyear",
    ),
    # last year, next year, this year
    (r"\b(?:(?:earlier|later)\s+)?(?P<ry>this|next|last)\s+year\b", _year_only),
    # this month, next month, later this month
    (r"\b(?:(?:earlier|later)\s+)?(?P<rm>this|next|last)\s+month\b", "relmonth"),
]


def _compile(rules: list[tuple[str, _Builder]]) -> list[tuple[re.Pattern[str], _Builder]]:
    return [(re.compile(p, re.IGNORECASE), b) for p, b in rules]


_RULES = {"ru": _compile(_RU_RULES), "en": _compile(_EN_RULES)}
_PREFIX = {"ru": _RU_PREFIX, "en": _EN_PREFIX}
_QUALIFIER_WORDS = {"ru": _RU_QUALIFIER_WORDS, "en": _EN_QUALIFIER_WORDS}

# An English bare year is a date only after a preposition that makes it one (in, by, ...):
# "the 2030 Agenda" or "3,000 delegates" are not dates.
_EN_YEAR_LEAD = re.compile(
    r"(?:\b(?:in|during|by|until|till|through|from|since|around|about|circa|"
    r"approximately|roughly|than|as\s+of|before|after)\s+(?:(?:early|mid|late)[-\s]+)?|"
    r"\bthe\s+(?:beginning|middle|end)\s+of\s+|\b(?:early|mid|late)-?)\Z",
    re.IGNORECASE,
)


def _build(builder: _Builder, m: re.Match[str], doc: dt.date, lang: str, text: str) -> _Span | None:
    if builder == "month":
        if lang == "en" and not _english_month_is_date(m, text):
            return None
        if m.groupdict().get("mg"):  # "в начале февраля": genitive after a part word
            return _month_from(m["mg"], None, m, doc)
        return _month_from(m["m"], m.groupdict().get("m2"), m, doc)
    if builder == "numeric":  # 20.05.2025: day first, as Russian and European texts write it
        return _Span(_day(int(m["y"]), int(m["mo"]), int(m["d"])))
    if builder == "relmonth":
        # Each "relmonth" rule has rm, or rm2 in the branch without it
        return _relative_month_word(m.groupdict().get("rm") or m["rm2"], doc)
    if builder == "enyear":
        lead = m[0].lower().startswith(("in", "during", "early", "mid", "late", "the"))
        if not lead and not _EN_YEAR_LEAD.search(text[max(0, m.start() - 40) : m.start()]):
            return None
        return _year_only(m, doc)
    return builder(m, doc)


_EN_MONTH_LEAD = re.compile(
    r"\b(?:in|during|by|until|till|through|from|since|before|after|of|than|as\s+of)\s+\Z",
    re.IGNORECASE,
)


def _english_month_is_date(m: re.Match[str], text: str) -> bool:
    """ "May" the verb, or "March" with neither a year nor a preposition, is not a date."""
    if m["m"].lower() == "may" and not m["m"][0].isupper():
        return False
    if m.groupdict().get("y") or m.groupdict().get("ry"):
        return True
    lead = re.match(r"(?:in|during|early|mid|late|the)\b", m[0], re.IGNORECASE)
    return bool(lead or _EN_MONTH_LEAD.search(text[max(0, m.start() - 20) : m.start()]))


def _month_from(first: str, last: str | None, m: re.Match[str], doc: dt.date) -> _Span:
    inferred: list[str] = []
    year = _year(m, doc, inferred)
    a = _month_no(first)
    span = _Span(f"{year:04d}-{a:02d}")
    if last:
        b = _month_no(last)
        if b != a:
            span.last = f"{year + (b < a):04d}-{b:02d}"
            if b < a:  # "December–January 2026": the year belongs to the second month
                span.first, span.last = f"{year - 1:04d}-{a:02d}", f"{year:04d}-{b:02d}"
    span.inferred = inferred
    return span


def _relative_month_word(word: str, doc: dt.date) -> _Span:
    shift = _RELATIVE_YEAR.get(word.lower(), 0)
    y, mo = divmod(doc.year * 12 + doc.month - 1 + shift, 12)
    span = _Span(f"{y:04d}-{mo + 1:02d}")
    span.inferred = [RELATIVE_TO_DOCUMENT]
    return span


def _apply_prefix(span: _Span, before: str, lang: str) -> tuple[str, int]:
    """The EDTF of the span with any opening or qualifying words just before it.

    Returns the EDTF and how many characters of `before` the prefix took.
    """
    single = span.first if span.last is None else None
    plain = span.first if single else f"{span.first}/{span.last}"
    if not span.prefixable:
        return plain, 0
    match = _PREFIX[lang].search(before)
    if match is None:
        if single and (q := _QUALIFIER_WORDS[lang].search(before)) and q["uncertain"]:
            return single + "?", 0
        return plain, 0
    kind = match.lastgroup
    taken = len(before) - match.start()
    first, last = span.first, span.last or span.first
    if kind == "by":
        return f"[..{last}]", taken
    if kind == "until":
        if lang == "ru" and match[0].strip().lower() == "по":
            return plain, 0  # "по" alone is a range's second half, handled by the rules
        return f"../{last}", taken
    if kind == "after":
        return f"[{first}..]", taken
    if kind == "from":
        return f"{first}/..", taken
    if single is None:
        return plain, 0  # EDTF qualifies single dates only
    return single + ("~" if kind == "approx" else "?"), taken


def find_dates(text: str, *, lang: str, document_date: dt.date) -> list[DateMention]:
    """Every date expression in `text`, left to right, longest match first on overlaps."""
    rules = _RULES[lang]
    candidates: list[tuple[int, int, _Span]] = []
    for pattern, builder in rules:
        for m in pattern.finditer(text):
            try:
                span = _build(builder, m, document_date, lang, text)
            except (ValueError, KeyError, StopIteration):
                continue
            if span is not None:
                start = m.start()
                # leading spaces the optional groups may leave are not part of the date
                while start < m.end() and text[start].isspace():
                    start += 1
                candidates.append((start, m.end(), span))
    candidates.sort(key=lambda c: (c[0] - c[1], c[0]))
    chosen: list[tuple[int, int, _Span]] = []
    for cand in candidates:
        if all(cand[1] <= s or cand[0] >= e for s, e, _ in chosen):
            chosen.append(cand)
    chosen.sort(key=lambda c: c[0])
    mentions: list[DateMention] = []
    previous_end = 0
    for start, end, span in chosen:
        before = text[max(previous_end, start - 40) : start]
        edtf, taken = _apply_prefix(span, before, lang)
        try:
            parse_edtf(edtf)
        except InvalidDate:
            continue  # e.g. an interval that ends before it starts
        start -= taken
        mentions.append(
            DateMention(
                start=start,
                end=end,
                text=text[start:end],
                edtf=edtf,
                inferred=_dedupe(span.inferred),
            )
        )
        previous_end = end
    return mentions


_DATELINE = re.compile(
    rf"^\s*(?P<place>[A-ZА-ЯЁ][A-ZА-ЯЁ\- ]+),\s+(?P<d>{_D})\s+(?P<m>{_RU_GEN}|{_EN_MON})"
    rf"(?:,?\s+(?P<y>{_Y}))?\s*(?:\([^()]{{1,40}}\)\s*)?[-–—]",
    re.IGNORECASE,
)


def dateline(paragraph: str, *, document_date: dt.date) -> tuple[str, DateMention] | None:
    """A news dateline («ТАШКЕНТ, 16 ноября — Sputnik»): its place and its date.

    The day and month are the text's; a missing year comes from the document's date.
    """
    m = _DATELINE.match(paragraph)
    if m is None or not m["place"].isupper():
        return None
    year = int(m["y"]) if m["y"] else document_date.year
    try:
        edtf = _day(year, _month_no(m["m"]), int(m["d"]))
    except ValueError:
        return None
    inferred = (DATELINE,) if m["y"] else (DATELINE, YEAR_FROM_DOCUMENT)
    start = m.start("d")
    end = m.end("y") if m["y"] else m.end("m")
    return m["place"].strip(), DateMention(
        start=start, end=end, text=paragraph[start:end], edtf=edtf, inferred=inferred
    )
