# Not PyPI `edtf`: mis-sorts open intervals, invents start = end - 10y, upper_strict() = day start.
"""The subset of EDTF (ISO 8601-2) the timeline uses, parsed into honest day bounds.

`parse_edtf` turns an EDTF string into `DateBounds`: the first and last day the fact can
fall on (both inclusive; None where the string leaves that side open or unknown), a
precision name and a display label in every language. Supported forms:

    2025-03-13  2018-03  2026-21 (spring; 22 summer, 23 autumn, 24 winter)  2027
    A/B                 a closed interval of any two of the forms above
    [..B]  [A..]        on or before B / on or after A
    ../B  /B            open or unknown start (until B)
    A/..  A/            open or unknown end (from A)
    2026?  2026~  2026% a single date that is uncertain / approximate / both

Anything else raises InvalidDate with a message naming the input and what to change.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from typing import NamedTuple

import msgspec

PRECISIONS: tuple[str, ...] = ("day", "month", "season", "year", "by", "after", "until", "from")

# Coarseness of the single forms: a closed interval takes the coarser of its two ends.
_RANK: dict[str, int] = {"day": 0, "month": 1, "season": 2, "year": 3}

_FIRST_YEAR, _LAST_YEAR = 1, 9999


class InvalidDate(ValueError):
    """The text is not a date of the supported EDTF subset, or not a real date."""


class DateBounds(msgspec.Struct, frozen=True, kw_only=True):
    edtf: str  # the EDTF string, stripped
    start: dt.date | None  # first day the fact can fall on, inclusive; None = open/unknown
    end: dt.date | None  # last day, inclusive; None = open
    precision: str  # one of PRECISIONS
    label: dict[str, str]  # {"en": ..., "ru": ...}
    approximate: bool = False  # "~" or "%"
    uncertain: bool = False  # "?" or "%"


class _Name(NamedTuple):
    en: str
    nom: str  # Russian nominative: "март 2018"
    gen: str  # Russian genitive: "13 марта", "до марта", "с марта", "около марта"
    dat: str  # Russian dative: "к марту"


_MONTHS: tuple[_Name, ...] = (
    _Name("January", "январь", "января", "январю"),
    _Name("February", "февраль", "февраля", "февралю"),
    _Name("March", "март", "марта", "марту"),
    _Name("April", "апрель", "апреля", "апрелю"),
    _Name("May", "май", "мая", "маю"),
    _Name("June", "июнь", "июня", "июню"),
    _Name("July", "июль", "июля", "июлю"),
    _Name("August", "август", "августа", "августу"),
    _Name("September", "сентябрь", "сентября", "сентябрю"),
    _Name("October", "октябрь", "октября", "октябрю"),
    _Name("November", "ноябрь", "ноября", "ноябрю"),
    _Name("December", "декабрь", "декабря", "декабрю"),
)

# EDTF season codes as northern-hemisphere meteorological seasons: name and first month.
# Each lasts three months; winter YYYY-24 runs from 1 December YYYY to the end of February.
_SEASONS: dict[int, tuple[_Name, int]] = {
    21: (_Name("spring", "весна", "весны", "весне"), 3),
    22: (_Name("summer", "лето", "лета", "лету"), 6),
    23: (_Name("autumn", "осень", "осени", "осени"), 9),
    24: (_Name("winter", "зима", "зимы", "зиме"), 12),
}

# Open forms: precision -> (English pattern, Russian pattern, Russian case of the date).
_OPEN: dict[str, tuple[str, str, str]] = {
    "by": ("by {}", "к {}", "dat"),
    "after": ("{} or later", "{} или позже", "nom"),
    "until": ("until {}", "до {}", "gen"),
    "from": ("from {}", "с {}", "gen"),
}

# Qualifier -> (approximate, uncertain, English pattern, Russian pattern, Russian case).
_QUALIFIERS: dict[str, tuple[bool, bool, str, str, str]] = {
    "~": (True, False, "about {}", "около {}", "gen"),
    "?": (False, True, "{} (uncertain)", "{} (не точно)", "nom"),
    "%": (True, True, "about {} (uncertain)", "около {} (не точно)", "gen"),
}
_PLAIN: tuple[bool, bool, str, str, str] = (False, False, "{}", "{}", "nom")

_SINGLE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_BY = re.compile(r"\[\.\.([^\[\]]*)\]")
_AFTER = re.compile(r"\[([^\[\]]*)\.\.\]")
_FORMS_HINT = (
    "use YYYY-MM-DD, YYYY-MM, YYYY-21…24 (a season), YYYY, START/END, ../END, START/.., "
    "[..END] or [START..]"
)


class _Part(NamedTuple):
    """One single date: a day, month, season or year."""

    precision: str  # "day", "month", "season" or "year"
    year: int
    unit: int  # month 1–12, season code 21–24, or 0 for a whole year
    day: int  # 0 unless a day
    start: dt.date
    end: dt.date


def _shown(text: str) -> str:
    """The input as it should appear in a message: short, and quoted if it hides anything."""
    if len(text) > 40:
        text = text[:40] + "…"
    if not text.isprintable() or any(ch.isspace() for ch in text):
        return repr(text)
    return text


def _fail(token: str, whole: str, problem: str) -> InvalidDate:
    where = f" (in {_shown(whole)})" if whole != token else ""
    return InvalidDate(f"{_shown(token)} {problem}{where}")


def _diagnose(token: str) -> str:
    """Why a token that is not a single date was rejected, and what to write instead."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9].*", token):
        return "has a time of day; only whole days are supported, e.g. 2025-03-13"
    if any(q in token for q in _QUALIFIERS):
        return "has a qualifier out of place; put one ?, ~ or % at the end, e.g. 2025-03~"
    if "X" in token.upper() and re.fullmatch(r"[0-9Xx]{4}(-[0-9Xx]{2}){0,2}", token):
        return "has unspecified digits (X), which are not supported; give a range, e.g. 2020/2029"
    if re.fullmatch(r"(-[0-9]|Y-?[0-9]{5}).*", token):
        return "is outside the supported years 0001–9999"
    if re.fullmatch(r"[0-9]+(-[0-9]+){0,2}", token):
        year, *rest = token.split("-")
        if len(year) != 4:
            return "does not have a four-digit year; years run 0001–9999"
        if all(len(p) <= 2 for p in rest):
            padded = "-".join([year, *(p.zfill(2) for p in rest)])
            return f"needs two-digit months and days: {padded}"
    return f"is not a supported date; {_FORMS_HINT}"


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _parse_part(token: str, whole: str) -> _Part:
    """A single day, month, season or year (no qualifier); `whole` is the full input."""
    match = _SINGLE.fullmatch(token)
    if match is None:
        raise _fail(token, whole, _diagnose(token))
    year = int(match[1])
    if year < _FIRST_YEAR:
        raise _fail(token, whole, "is outside the supported years 0001–9999")
    if match[2] is None:
        return _Part("year", year, 0, 0, dt.date(year, 1, 1), dt.date(year, 12, 31))
    unit = int(match[2])
    if unit in _SEASONS:
        if match[3] is not None:
            raise _fail(token, whole, "gives a day of a season; seasons (21–24) have no days")
        first_month = _SEASONS[unit][1]
        # the season's third month, counted from January of year 0 (winter wraps the year)
        last_year, last_month = divmod(year * 12 + first_month - 1 + 2, 12)
        if last_year > _LAST_YEAR:
            raise _fail(token, whole, "ends after 9999, the last supported year")
        first, last = dt.date(year, first_month, 1), _last_day(last_year, last_month + 1)
        return _Part("season", year, unit, 0, first, last)
    if 25 <= unit <= 41:
        raise _fail(
            token,
            whole,
            f"uses season code {unit}, which is not supported; "
            "use 21 (spring), 22 (summer), 23 (autumn) or 24 (winter)",
        )
    if not 1 <= unit <= 12:
        raise _fail(token, whole, f"has month {match[2]}; months run 01–12 (21–24 are seasons)")
    if match[3] is None:
        return _Part("month", year, unit, 0, dt.date(year, unit, 1), _last_day(year, unit))
    try:
        day = dt.date(year, unit, int(match[3]))
    except ValueError:
        raise _fail(token, whole, "is not a real day") from None
    return _Part("day", year, unit, day.day, day, day)


def _winter_years(year: int, *, short: bool) -> str:
    """The years of a winter: 2026–27 (short, within a century) or 2026–2027."""
    following = year + 1
    if short and following // 100 == year // 100:
        return f"{year}–{following % 100:02d}"
    return f"{year}–{following}"


def _en(part: _Part) -> str:
    if part.precision == "day":
        return f"{part.day} {_MONTHS[part.unit - 1].en} {part.year}"
    if part.precision == "month":
        return f"{_MONTHS[part.unit - 1].en} {part.year}"
    if part.precision == "season":
        name = _SEASONS[part.unit][0].en
        if part.unit == 24:
            return f"{name} {_winter_years(part.year, short=True)}"
        return f"{name} {part.year}"
    return str(part.year)


def _ru(part: _Part, case: str = "nom") -> str:
    """The Russian label with the month or season in `case` ("nom", "gen" or "dat")."""
    if part.precision == "day":  # "13 марта" is genitive whatever the preposition
        return f"{part.day} {_MONTHS[part.unit - 1].gen} {part.year}"
    if part.precision == "month":
        return f"{getattr(_MONTHS[part.unit - 1], case)} {part.year}"
    if part.precision == "season":
        name = getattr(_SEASONS[part.unit][0], case)
        if part.unit == 24:
            return f"{name} {_winter_years(part.year, short=False)}"
        return f"{name} {part.year}"
    return str(part.year)


def _interval_label(a: _Part, b: _Part) -> dict[str, str]:
    """En dash unspaced between simple items ("3–4", "March–May"), spaced otherwise."""
    if a == b:
        return {"en": _en(a), "ru": _ru(a)}
    same_year = a.year == b.year
    if a.precision == b.precision == "day" and same_year:
        ma, mb = _MONTHS[a.unit - 1], _MONTHS[b.unit - 1]
        if a.unit == b.unit:
            return {
                "en": f"{a.day}–{b.day} {ma.en} {a.year}",
                "ru": f"{a.day}–{b.day} {ma.gen} {a.year}",
            }
        return {
            "en": f"{a.day} {ma.en} – {b.day} {mb.en} {a.year}",
            "ru": f"{a.day} {ma.gen} – {b.day} {mb.gen} {a.year}",
        }
    if a.precision == b.precision == "month" and same_year:
        ma, mb = _MONTHS[a.unit - 1], _MONTHS[b.unit - 1]
        return {"en": f"{ma.en}–{mb.en} {a.year}", "ru": f"{ma.nom}–{mb.nom} {a.year}"}
    if a.precision == b.precision == "year":
        return {"en": f"{a.year}–{b.year}", "ru": f"{a.year}–{b.year}"}
    return {"en": f"{_en(a)} – {_en(b)}", "ru": f"{_ru(a)} – {_ru(b)}"}


def _reject_qualifier(token: str, whole: str) -> None:
    if token and token[-1] in _QUALIFIERS:
        raise _fail(
            whole,
            whole,
            "has a qualifier (?, ~, %) inside an interval or open range; "
            "qualifiers are only supported on a single date, e.g. 2025-03~",
        )


def _open(precision: str, token: str, whole: str) -> DateBounds:
    """A range with one side open or unknown: "by", "after", "until" or "from"."""
    if not token:
        raise _fail(whole, whole, "has no date in the brackets, e.g. [..2026] or [2026..]")
    _reject_qualifier(token, whole)
    part = _parse_part(token, whole)
    en, ru, case = _OPEN[precision]
    opens_before = precision in ("by", "until")
    return DateBounds(
        edtf=whole,
        start=None if opens_before else part.start,
        end=part.end if opens_before else None,
        precision=precision,
        label={"en": en.format(_en(part)), "ru": ru.format(_ru(part, case))},
    )


def _interval(edtf: str) -> DateBounds:
    first, _, last = edtf.partition("/")
    if "/" in last:
        raise _fail(edtf, edtf, "has more than one '/'; an interval is START/END")
    if first in ("", "..") and last in ("", ".."):
        raise _fail(edtf, edtf, "has no known end; give at least one date")
    if first in ("", ".."):
        return _open("until", last, edtf)
    if last in ("", ".."):
        return _open("from", first, edtf)
    _reject_qualifier(first, edtf)
    _reject_qualifier(last, edtf)
    a, b = _parse_part(first, edtf), _parse_part(last, edtf)
    if a.start > b.end:
        raise InvalidDate(
            f"interval ends before it starts: {_shown(edtf)} "
            f"({_shown(last)} ends on {b.end}, before {_shown(first)} begins on {a.start})"
        )
    return DateBounds(
        edtf=edtf,
        start=a.start,
        end=b.end,
        precision=max(a.precision, b.precision, key=_RANK.__getitem__),
        label=_interval_label(a, b),
    )


def _single(edtf: str) -> DateBounds:
    """A day, month, season or year, with at most one trailing qualifier."""
    token, qualifier = edtf, ""
    if edtf[-1] in _QUALIFIERS:
        token, qualifier = edtf[:-1], edtf[-1]
        if token.startswith("["):  # "[2026..]?"
            _reject_qualifier(edtf, edtf)
    if not token or token[-1] in _QUALIFIERS:
        raise _fail(edtf, edtf, _diagnose(edtf))
    part = _parse_part(token, edtf)
    approximate, uncertain, en, ru, case = _QUALIFIERS.get(qualifier, _PLAIN)
    return DateBounds(
        edtf=edtf,
        start=part.start,
        end=part.end,
        precision=part.precision,
        label={"en": en.format(_en(part)), "ru": ru.format(_ru(part, case))},
        approximate=approximate,
        uncertain=uncertain,
    )


@functools.lru_cache(maxsize=4096)
def parse_edtf(text: str) -> DateBounds:
    """Parse one EDTF string of the supported subset; raise InvalidDate for anything else.

    The result is cached and shared between callers: do not mutate its `label`.
    """
    edtf = text.strip()
    if not edtf:
        raise InvalidDate(f"the date is empty; {_FORMS_HINT}")
    if match := _BY.fullmatch(edtf):
        return _open("by", match[1], edtf)
    if match := _AFTER.fullmatch(edtf):
        return _open("after", match[1], edtf)
    if "/" in edtf:
        return _interval(edtf)
    return _single(edtf)
