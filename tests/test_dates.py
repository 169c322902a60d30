"""EDTF parsing: exact bounds, precisions and labels for every supported form."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.dates import PRECISIONS, DateBounds, InvalidDate, parse_edtf

D = dt.date


def check(
    text: str,
    start: dt.date | None,
    end: dt.date | None,
    precision: str,
    en: str,
    ru: str,
    *,
    approximate: bool = False,
    uncertain: bool = False,
) -> None:
    assert parse_edtf(text) == DateBounds(
        edtf=text.strip(),
        start=start,
        end=end,
        precision=precision,
        label={"en": en, "ru": ru},
        approximate=approximate,
        uncertain=uncertain,
    )


def test_precisions() -> None:
    assert PRECISIONS == ("day", "month", "season", "year", "by", "after", "until", "from")


# --- single dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day", "en", "ru"),
    [
        ("2025-03-13", D(2025, 3, 13), "13 March 2025", "13 марта 2025"),
        ("2025-01-01", D(2025, 1, 1), "1 January 2025", "1 января 2025"),
        ("2024-02-29", D(2024, 2, 29), "29 February 2024", "29 февраля 2024"),
        ("2000-02-29", D(2000, 2, 29), "29 February 2000", "29 февраля 2000"),
        ("2025-04-03", D(2025, 4, 3), "3 April 2025", "3 апреля 2025"),
        ("2025-05-09", D(2025, 5, 9), "9 May 2025", "9 мая 2025"),
        ("2025-06-30", D(2025, 6, 30), "30 June 2025", "30 июня 2025"),
        ("2025-07-04", D(2025, 7, 4), "4 July 2025", "4 июля 2025"),
        ("2025-08-15", D(2025, 8, 15), "15 August 2025", "15 августа 2025"),
        ("2025-09-01", D(2025, 9, 1), "1 September 2025", "1 сентября 2025"),
        ("2025-10-31", D(2025, 10, 31), "31 October 2025", "31 октября 2025"),
        ("2025-11-16", D(2025, 11, 16), "16 November 2025", "16 ноября 2025"),
        ("2025-12-31", D(2025, 12, 31), "31 December 2025", "31 декабря 2025"),
        ("0001-01-01", D(1, 1, 1), "1 January 1", "1 января 1"),
        ("9999-12-31", D(9999, 12, 31), "31 December 9999", "31 декабря 9999"),
    ],
)
def test_day(text: str, day: dt.date, en: str, ru: str) -> None:
    check(text, day, day, "day", en, ru)


@pytest.mark.parametrize(
    ("text", "start", "end", "en", "ru"),
    [
        ("2018-03", D(2018, 3, 1), D(2018, 3, 31), "March 2018", "март 2018"),
        ("2018-01", D(2018, 1, 1), D(2018, 1, 31), "January 2018", "январь 2018"),
        ("2018-04", D(2018, 4, 1), D(2018, 4, 30), "April 2018", "апрель 2018"),
        ("2018-12", D(2018, 12, 1), D(2018, 12, 31), "December 2018", "декабрь 2018"),
        # February: common year, leap year, century common year, 400-year leap year
        ("2023-02", D(2023, 2, 1), D(2023, 2, 28), "February 2023", "февраль 2023"),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "February 2024", "февраль 2024"),
        ("1900-02", D(1900, 2, 1), D(1900, 2, 28), "February 1900", "февраль 1900"),
        ("2000-02", D(2000, 2, 1), D(2000, 2, 29), "February 2000", "февраль 2000"),
    ],
)
def test_month(text: str, start: dt.date, end: dt.date, en: str, ru: str) -> None:
    check(text, start, end, "month", en, ru)


EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip
RU_MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
             "сентябрь", "октябрь", "ноябрь", "декабрь")  # fmt: skip


def test_every_month_name() -> None:
    labels = [parse_edtf(f"2025-{m:02d}").label for m in range(1, 13)]
    assert [label["en"] for label in labels] == [f"{name} 2025" for name in EN_MONTHS]
    assert [label["ru"] for label in labels] == [f"{name} 2025" for name in RU_MONTHS]


@pytest.mark.parametrize(
    ("text", "start", "end", "en", "ru"),
    [
        ("2026-21", D(2026, 3, 1), D(2026, 5, 31), "spring 2026", "весна 2026"),
        ("2026-22", D(2026, 6, 1), D(2026, 8, 31), "summer 2026", "лето 2026"),
        ("2026-23", D(2026, 9, 1), D(2026, 11, 30), "autumn 2026", "осень 2026"),
        # winter crosses into the next year, to the end of its February
        ("2026-24", D(2026, 12, 1), D(2027, 2, 28), "winter 2026–27", "зима 2026–2027"),
        ("2027-24", D(2027, 12, 1), D(2028, 2, 29), "winter 2027–28", "зима 2027–2028"),
        ("2099-24", D(2099, 12, 1), D(2100, 2, 28), "winter 2099–2100", "зима 2099–2100"),
        ("9999-23", D(9999, 9, 1), D(9999, 11, 30), "autumn 9999", "осень 9999"),
    ],
)
def test_season(text: str, start: dt.date, end: dt.date, en: str, ru: str) -> None:
    check(text, start, end, "season", en, ru)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2027", D(2027, 1, 1), D(2027, 12, 31), "2027"),
        ("1991", D(1991, 1, 1), D(1991, 12, 31), "1991"),
        ("0001", D(1, 1, 1), D(1, 12, 31), "1"),
        ("9999", D(9999, 1, 1), D(9999, 12, 31), "9999"),
    ],
)
def test_year(text: str, start: dt.date, end: dt.date, label: str) -> None:
    check(text, start, end, "year", label, label)


def test_surrounding_whitespace_is_stripped() -> None:
    check(" 2025-03-13\n", D(2025, 3, 13), D(2025, 3, 13), "day", "13 March 2025", "13 марта 2025")
    check("\t2025/.. ", D(2025, 1, 1), None, "from", "from 2025", "с 2025")


# --- qualifiers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "en", "ru", "approximate", "uncertain"),
    [
        ("2026~", D(2026, 1, 1), D(2026, 12, 31), "year", "about 2026", "около 2026", True, False),
        (
            "2026?",
            D(2026, 1, 1),
            D(2026, 12, 31),
            "year",
            "2026 (uncertain)",
            "2026 (не точно)",
            False,
            True,
        ),
        (
            "2026%",
            D(2026, 1, 1),
            D(2026, 12, 31),
            "year",
            "about 2026 (uncertain)",
            "около 2026 (не точно)",
            True,
            True,
        ),
        # "около" takes the genitive; "(не точно)" leaves the nominative alone
        (
            "2018-03~",
            D(2018, 3, 1),
            D(2018, 3, 31),
            "month",
            "about March 2018",
            "около марта 2018",
            True,
            False,
        ),
        (
            "2018-03?",
            D(2018, 3, 1),
            D(2018, 3, 31),
            "month",
            "March 2018 (uncertain)",
            "март 2018 (не точно)",
            False,
            True,
        ),
        (
            "2024-02%",
            D(2024, 2, 1),
            D(2024, 2, 29),
            "month",
            "about February 2024 (uncertain)",
            "около февраля 2024 (не точно)",
            True,
            True,
        ),
        (
            "2025-03-13~",
            D(2025, 3, 13),
            D(2025, 3, 13),
            "day",
            "about 13 March 2025",
            "около 13 марта 2025",
            True,
            False,
        ),
        (
            "2025-03-13?",
            D(2025, 3, 13),
            D(2025, 3, 13),
            "day",
            "13 March 2025 (uncertain)",
            "13 марта 2025 (не точно)",
            False,
            True,
        ),
        (
            "2025-03-13%",
            D(2025, 3, 13),
            D(2025, 3, 13),
            "day",
            "about 13 March 2025 (uncertain)",
            "около 13 марта 2025 (не точно)",
            True,
            True,
        ),
        (
            "2026-21~",
            D(2026, 3, 1),
            D(2026, 5, 31),
            "season",
            "about spring 2026",
            "около весны 2026",
            True,
            False,
        ),
        (
            "2026-24?",
            D(2026, 12, 1),
            D(2027, 2, 28),
            "season",
            "winter 2026–27 (uncertain)",
            "зима 2026–2027 (не точно)",
            False,
            True,
        ),
        (
            "2026-24%",
            D(2026, 12, 1),
            D(2027, 2, 28),
            "season",
            "about winter 2026–27 (uncertain)",
            "около зимы 2026–2027 (не точно)",
            True,
            True,
        ),
    ],
)
def test_qualifier(
    text: str,
    start: dt.date,
    end: dt.date,
    precision: str,
    en: str,
    ru: str,
    approximate: bool,
    uncertain: bool,
) -> None:
    check(text, start, end, precision, en, ru, approximate=approximate, uncertain=uncertain)


def test_qualifier_keeps_bounds() -> None:
    for base in ("2026", "2026-02", "2026-24", "2026-02-28"):
        plain = parse_edtf(base)
        for qualifier in "~?%":
            qualified = parse_edtf(base + qualifier)
            assert (qualified.start, qualified.end, qualified.precision) == (
                plain.start,
                plain.end,
                plain.precision,
            )


# --- closed intervals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "en", "ru"),
    [
        # days in one month
        ("2025-04-03/2025-04-04", D(2025, 4, 3), D(2025, 4, 4), "day",
         "3–4 April 2025", "3–4 апреля 2025"),
        # days across months of one year
        ("2025-05-30/2025-06-02", D(2025, 5, 30), D(2025, 6, 2), "day",
         "30 May – 2 June 2025", "30 мая – 2 июня 2025"),
        ("2024-02-28/2024-03-01", D(2024, 2, 28), D(2024, 3, 1), "day",
         "28 February – 1 March 2024", "28 февраля – 1 марта 2024"),
        # days across years
        ("2025-12-30/2026-01-02", D(2025, 12, 30), D(2026, 1, 2), "day",
         "30 December 2025 – 2 January 2026", "30 декабря 2025 – 2 января 2026"),
        # the same day twice reads as that day
        ("2025-04-03/2025-04-03", D(2025, 4, 3), D(2025, 4, 3), "day",
         "3 April 2025", "3 апреля 2025"),
        # months in one year, and across years (February of a common year)
        ("2018-03/2018-05", D(2018, 3, 1), D(2018, 5, 31), "month",
         "March–May 2018", "март–май 2018"),
        ("2018-11/2019-02", D(2018, 11, 1), D(2019, 2, 28), "month",
         "November 2018 – February 2019", "ноябрь 2018 – февраль 2019"),
        ("2023-11/2024-02", D(2023, 11, 1), D(2024, 2, 29), "month",
         "November 2023 – February 2024", "ноябрь 2023 – февраль 2024"),
        # years
        ("2026/2027", D(2026, 1, 1), D(2027, 12, 31), "year", "2026–2027", "2026–2027"),
        ("2025/2025", D(2025, 1, 1), D(2025, 12, 31), "year", "2025", "2025"),
        # seasons are joined in full
        ("2026-21/2026-22", D(2026, 3, 1), D(2026, 8, 31), "season",
         "spring 2026 – summer 2026", "весна 2026 – лето 2026"),
        ("2025-24/2026-21", D(2025, 12, 1), D(2026, 5, 31), "season",
         "winter 2025–26 – spring 2026", "зима 2025–2026 – весна 2026"),
        # mixed forms: the coarser precision, the two single labels joined with " – "
        ("2025-03-13/2025-04", D(2025, 3, 13), D(2025, 4, 30), "month",
         "13 March 2025 – April 2025", "13 марта 2025 – апрель 2025"),
        ("2025-04/2025-04-13", D(2025, 4, 1), D(2025, 4, 13), "month",
         "April 2025 – 13 April 2025", "апрель 2025 – 13 апреля 2025"),
        ("2025-03-13/2025-22", D(2025, 3, 13), D(2025, 8, 31), "season",
         "13 March 2025 – summer 2025", "13 марта 2025 – лето 2025"),
        ("2025-24/2026-01-15", D(2025, 12, 1), D(2026, 1, 15), "season",
         "winter 2025–26 – 15 January 2026", "зима 2025–2026 – 15 января 2026"),
        ("2025-05/2025-24", D(2025, 5, 1), D(2026, 2, 28), "season",
         "May 2025 – winter 2025–26", "май 2025 – зима 2025–2026"),
        ("2025-24/2026-02", D(2025, 12, 1), D(2026, 2, 28), "season",
         "winter 2025–26 – February 2026", "зима 2025–2026 – февраль 2026"),
        ("2025-03-13/2026", D(2025, 3, 13), D(2026, 12, 31), "year",
         "13 March 2025 – 2026", "13 марта 2025 – 2026"),
        ("2025/2026-03-13", D(2025, 1, 1), D(2026, 3, 13), "year",
         "2025 – 13 March 2026", "2025 – 13 марта 2026"),
        ("2025-11/2026", D(2025, 11, 1), D(2026, 12, 31), "year",
         "November 2025 – 2026", "ноябрь 2025 – 2026"),
        ("2025/2026-02", D(2025, 1, 1), D(2026, 2, 28), "year",
         "2025 – February 2026", "2025 – февраль 2026"),
        ("2025-23/2026", D(2025, 9, 1), D(2026, 12, 31), "year",
         "autumn 2025 – 2026", "осень 2025 – 2026"),
        ("2025/2025-24", D(2025, 1, 1), D(2026, 2, 28), "year",
         "2025 – winter 2025–26", "2025 – зима 2025–2026"),
        # B may end inside A as long as A starts no later than B ends
        ("2025/2025-03", D(2025, 1, 1), D(2025, 3, 31), "year",
         "2025 – March 2025", "2025 – март 2025"),
    ],
)  # fmt: skip
def test_closed_interval(
    text: str, start: dt.date, end: dt.date, precision: str, en: str, ru: str
) -> None:
    check(text, start, end, precision, en, ru)


# An early and a late example of each single form: every early one ends before every
# late one starts, so each ordered pair makes a valid interval.
EARLY = {"day": "2024-03-13", "month": "2024-04", "season": "2024-22", "year": "2024"}
LATE = {"day": "2026-03-13", "month": "2026-04", "season": "2026-22", "year": "2026"}
ORDER = ["day", "month", "season", "year"]


@pytest.mark.parametrize(("first", "last"), list(itertools.product(ORDER, ORDER)))
def test_interval_takes_the_coarser_precision(first: str, last: str) -> None:
    a, b = parse_edtf(EARLY[first]), parse_edtf(LATE[last])
    bounds = parse_edtf(f"{EARLY[first]}/{LATE[last]}")
    assert bounds.start == a.start
    assert bounds.end == b.end
    assert bounds.precision == ORDER[max(ORDER.index(first), ORDER.index(last))]
    assert (bounds.approximate, bounds.uncertain) == (False, False)
    if first != last:
        assert bounds.label == {lang: f"{a.label[lang]} – {b.label[lang]}" for lang in ("en", "ru")}


# --- open forms -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end", "en", "ru"),
    [
        ("[..2026]", D(2026, 12, 31), "by 2026", "к 2026"),
        ("[..2026-03]", D(2026, 3, 31), "by March 2026", "к марту 2026"),
        ("[..2024-02]", D(2024, 2, 29), "by February 2024", "к февралю 2024"),
        ("[..2026-03-13]", D(2026, 3, 13), "by 13 March 2026", "к 13 марта 2026"),
        ("[..2026-21]", D(2026, 5, 31), "by spring 2026", "к весне 2026"),
        ("[..2026-24]", D(2027, 2, 28), "by winter 2026–27", "к зиме 2026–2027"),
    ],
)
def test_on_or_before(text: str, end: dt.date, en: str, ru: str) -> None:
    check(text, None, end, "by", en, ru)


def test_on_or_before_uses_the_dative_of_every_month() -> None:
    dative = ("январю", "февралю", "марту", "апрелю", "маю", "июню", "июлю", "августу",
              "сентябрю", "октябрю", "ноябрю", "декабрю")  # fmt: skip
    labels = [parse_edtf(f"[..2026-{m:02d}]").label["ru"] for m in range(1, 13)]
    assert labels == [f"к {name} 2026" for name in dative]


@pytest.mark.parametrize(
    ("text", "start", "en", "ru"),
    [
        ("[2026..]", D(2026, 1, 1), "2026 or later", "2026 или позже"),
        ("[2026-03..]", D(2026, 3, 1), "March 2026 or later", "март 2026 или позже"),
        ("[2026-03-13..]", D(2026, 3, 13), "13 March 2026 or later", "13 марта 2026 или позже"),
        ("[2026-23..]", D(2026, 9, 1), "autumn 2026 or later", "осень 2026 или позже"),
    ],
)
def test_on_or_after(text: str, start: dt.date, en: str, ru: str) -> None:
    check(text, start, None, "after", en, ru)


@pytest.mark.parametrize(
    ("text", "end", "en", "ru"),
    [
        ("../2035", D(2035, 12, 31), "until 2035", "до 2035"),
        ("../2035-03", D(2035, 3, 31), "until March 2035", "до марта 2035"),
        ("../2035-03-13", D(2035, 3, 13), "until 13 March 2035", "до 13 марта 2035"),
        ("../2035-24", D(2036, 2, 29), "until winter 2035–36", "до зимы 2035–2036"),
        # an unknown start is as open as an open one
        ("/2035", D(2035, 12, 31), "until 2035", "до 2035"),
        ("/2035-02", D(2035, 2, 28), "until February 2035", "до февраля 2035"),
        ("/2035-03-13", D(2035, 3, 13), "until 13 March 2035", "до 13 марта 2035"),
    ],
)
def test_open_start(text: str, end: dt.date, en: str, ru: str) -> None:
    check(text, None, end, "until", en, ru)


@pytest.mark.parametrize(
    ("text", "start", "en", "ru"),
    [
        ("2025/..", D(2025, 1, 1), "from 2025", "с 2025"),
        ("2025-03/..", D(2025, 3, 1), "from March 2025", "с марта 2025"),
        ("2025-03-13/..", D(2025, 3, 13), "from 13 March 2025", "с 13 марта 2025"),
        ("2025-21/..", D(2025, 3, 1), "from spring 2025", "с весны 2025"),
        # an unknown end is as open as an open one
        ("2025/", D(2025, 1, 1), "from 2025", "с 2025"),
        ("2025-03/", D(2025, 3, 1), "from March 2025", "с марта 2025"),
        ("2025-03-13/", D(2025, 3, 13), "from 13 March 2025", "с 13 марта 2025"),
    ],
)
def test_open_end(text: str, start: dt.date, en: str, ru: str) -> None:
    check(text, start, None, "from", en, ru)


# --- invalid input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "../..",
        "/",
        "../",
        "/..",
        "[..]",
        "[..2026..]",
        "[2026]",
        "2025-13",
        "2025-00",
        "2025-02-30",
        "2023-02-29",
        "1900-02-29",
        "2025-04-31",
        "2025-00-10",
        "2025-03-00",
        "2025-03-32",
        "2025-13-01",
        "25",
        "025",
        "20250",
        "0000",
        "2025-3-1",
        "2025-03-1",
        "2025-3",
        "2025-03-13T10:00",
        "2025-03-13T10:00:00Z",
        "2025-03-13 10:00",
        "202X",
        "2025-XX",
        "-2025",
        "-0001-01-01",
        "Y12025",
        "garbage",
        "today",
        "x2025",
        "2025x",
        "2025-03-13x",
        "2025 03 13",
        "2025-03-13/2025-03-14junk",
        "٢٠٢٥",  # non-ASCII digits
        "2025-25",
        "2025-33",
        "2025-41",
        "2025-42",
        "2025-21-01",
        "9999-24",  # winter 9999 would end in the year 10000
        "2025??",
        "2025~?",
        "?",
        "~2025",
        "2025?/2026",
        "2025/2026~",
        "2025-03~/..",
        "../2035?",
        "[..2026?]",
        "[2026~..]",
        "[2026..]?",
        "2025/2026/2027",
        "2025..2026",
        "{2025,2026}",
        "[2025,2026]",
        "2026/2025",
        "2025-03-14/2025-03-13",
        "2025-04/2025-03-31",
        "2026-21/2025-24",
    ],
)
def test_invalid(text: str) -> None:
    with pytest.raises(InvalidDate) as error:
        parse_edtf(text)
    if text.strip():
        assert text.strip() in str(error.value) or repr(text.strip()) in str(error.value)


def test_invalid_date_is_a_value_error() -> None:
    assert issubclass(InvalidDate, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-02-30", "2025-02-30 is not a real day"),
        ("2025-02-30/2025-03-02", "2025-02-30 is not a real day (in 2025-02-30/2025-03-02)"),
        ("2025-13", "2025-13 has month 13"),
        ("2025-25", "season code 25, which is not supported"),
        ("25", "four-digit year"),
        ("2025-3-1", "needs two-digit months and days: 2025-03-01"),
        ("2025-03-13T10:00", "has a time of day"),
        ("202X", "unspecified digits"),
        ("-2025", "outside the supported years 0001–9999"),
        ("../..", "no known end"),
        ("2025?/2026", "only supported on a single date"),
        ("2026/2025", "interval ends before it starts: 2026/2025"),
        ("", "the date is empty"),
    ],
)
def test_invalid_messages(text: str, message: str) -> None:
    with pytest.raises(InvalidDate, match=re.escape(message)):
        parse_edtf(text)


# --- the result -----------------------------------------------------------------------


def test_result_is_frozen_cached_and_encodable() -> None:
    bounds = parse_edtf("2025-03/..")
    with pytest.raises(AttributeError):
        bounds.start = D(2020, 1, 1)  # type: ignore[misc]
    assert parse_edtf("2025-03/..") is bounds
    assert msgspec.json.decode(msgspec.json.encode(bounds), type=DateBounds) == bounds


# --- properties -----------------------------------------------------------------------


@given(st.dates())
def test_any_day_is_its_own_bounds(day: dt.date) -> None:
    bounds = parse_edtf(day.isoformat())
    assert bounds.start == bounds.end == day
    assert bounds.precision == "day"


@given(st.dates(), st.dates())
def test_any_ordered_day_pair_is_an_interval(a: dt.date, b: dt.date) -> None:
    a, b = min(a, b), max(a, b)
    bounds = parse_edtf(f"{a.isoformat()}/{b.isoformat()}")
    assert (bounds.start, bounds.end, bounds.precision) == (a, b, "day")


@given(st.dates(), st.dates())
def test_any_reversed_day_pair_is_rejected(a: dt.date, b: dt.date) -> None:
    if a == b:
        return
    later, earlier = max(a, b), min(a, b)
    with pytest.raises(InvalidDate, match="interval ends before it starts"):
        parse_edtf(f"{later.isoformat()}/{earlier.isoformat()}")
