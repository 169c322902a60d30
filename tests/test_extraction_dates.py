"""The date grammar of seeds.extraction: one row per expression form, both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from events.dates import parse_edtf
from seeds.extraction.dates import (
    RELATIVE_TO_DOCUMENT,
    WEEKDAY_YEAR,
    WINTER_AS_YEAR,
    YEAR_FROM_DOCUMENT,
    dateline,
    find_dates,
)

DOC = dt.date(2025, 5, 30)  # the document's own date: what undated forms complete from
Y = (YEAR_FROM_DOCUMENT,)
R = (RELATIVE_TO_DOCUMENT,)

# (language, sentence, expected expression, EDTF, inferred)
FORMS = [
    # days and day ranges
    ("ru", "Саммит прошел 30 мая 2025 года в Астане.", "30 мая 2025 года", "2025-05-30", ()),
    ("ru", "Встреча 3-4 апреля 2025 года.", "3-4 апреля 2025 года", "2025-04-03/2025-04-04", ()),
    ("ru", "Форум пройдет 3 и 4 апреля.", "3 и 4 апреля", "2025-04-03/2025-04-04", Y),
    (
        "ru",
        "Выставка с 30 мая по 1 июня 2026 года.",
        "с 30 мая по 1 июня 2026 года",
        "2026-05-30/2026-06-01",
        (),
    ),
    ("ru", "Форум 31 августа – 1 сентября.", "31 августа – 1 сентября", "2025-08-31/2025-09-01", Y),
    (
        "ru",
        "Визит 30 декабря – 2 января 2026 года.",
        "30 декабря – 2 января 2026 года",
        "2025-12-30/2026-01-02",
        (),
    ),
    ("ru", "Встреча 12 июня следующего года.", "12 июня следующего года", "2026-06-12", R),
    ("en", "The treaty was signed on 13 March 2025.", "13 March 2025", "2025-03-13", ()),
    ("en", "The meeting on March 27, 2025 ended.", "March 27, 2025", "2025-03-27", ()),
    ("en", "They met on Thursday, November 6.", "Thursday, November 6", "2025-11-06", Y),
    ("en", "The forum runs December 19–20.", "December 19–20", "2025-12-19/2025-12-20", Y),
    ("en", "Talks on 3–4 April 2025.", "3–4 April 2025", "2025-04-03/2025-04-04", ()),
    (
        "en",
        "The fair runs from 30 May to 1 June 2026.",
        "from 30 May to 1 June 2026",
        "2026-05-30/2026-06-01",
        (),
    ),
    (
        "en",
        "The summit, November 30 – December 1, 2025.",
        "November 30 – December 1, 2025",
        "2025-11-30/2025-12-01",
        (),
    ),
    # months and month ranges
    ("ru", "Встреча состоялась в марте 2018 года.", "в марте 2018 года", "2018-03", ()),
    ("ru", "Визит в феврале–марте 2026 года.", "в феврале–марте 2026 года", "2026-02/2026-03", ()),
    ("ru", "Переговоры в начале февраля.", "в начале февраля", "2025-02", Y),
    ("ru", "Встреча в марте следующего года.", "в марте следующего года", "2026-03", R),
    ("en", "They met in March 2018.", "in March 2018", "2018-03", ()),
    ("en", "A visit in February–March 2026.", "in February–March 2026", "2026-02/2026-03", ()),
    ("en", "Talks resume in early February.", "in early February", "2025-02", Y),
    # seasons
    ("ru", "Конференция весной 2026 года.", "весной 2026 года", "2026-21", ()),
    ("ru", "Встреча осенью следующего года.", "осенью следующего года", "2026-23", R),
    ("ru", "Форум зимой 2025 года.", "зимой 2025 года", "2025", (WINTER_AS_YEAR,)),
    ("ru", "Форум зимой 2025/2026 года.", "зимой 2025/2026 года", "2025-24", ()),
    ("en", "A conference in spring 2026.", "in spring 2026", "2026-21", ()),
    ("en", "A conference in the autumn of 2026.", "in the autumn of 2026", "2026-23", ()),
    ("en", "A forum in winter 2025.", "in winter 2025", "2025", (WINTER_AS_YEAR,)),
    ("en", "A forum in winter 2025–26.", "in winter 2025–26", "2025-24", ()),
    # halves and quarters: month intervals
    (
        "ru",
        "Саммит во второй половине 2026 года.",
        "во второй половине 2026 года",
        "2026-07/2026-12",
        (),
    ),
    ("ru", "Встреча в первом квартале.", "в первом квартале", "2025-01/2025-03", Y),
    (
        "ru",
        "Встреча в четвертом квартале 2026 года.",
        "в четвертом квартале 2026 года",
        "2026-10/2026-12",
        (),
    ),
    (
        "en",
        "A summit in the first half of 2026.",
        "in the first half of 2026",
        "2026-01/2026-06",
        (),
    ),
    ("en", "A summit in the third quarter.", "in the third quarter", "2025-07/2025-09", Y),
    ("en", "A summit in Q2 2026.", "in Q2 2026", "2026-04/2026-06", ()),
    # years, year ranges, early/mid/late keep the year
    ("ru", "Саммит в 2027 году.", "в 2027 году", "2027", ()),
    ("ru", "Программа в 2024–2026 годах.", "в 2024–2026 годах", "2024/2026", ()),
    ("ru", "Программа с 2025 по 2027 год.", "с 2025 по 2027 год", "2025/2027", ()),
    ("ru", "Встреча в середине 2025 года.", "в середине 2025 года", "2025", ()),
    ("ru", "Встреча в начале 2026 г.", "в начале 2026 г.", "2026", ()),
    ("en", "The summit in 2027.", "in 2027", "2027", ()),
    ("en", "A programme in 2024–2026.", "in 2024–2026", "2024/2026", ()),
    ("en", "A programme between 2024 and 2026.", "between 2024 and 2026", "2024/2026", ()),
    ("en", "Talks in mid-2025.", "in mid-2025", "2025", ()),
    ("en", "Talks in late 2026.", "in late 2026", "2026", ()),
    # bounds and open periods
    ("ru", "Круглый стол к 2026 году.", "к 2026 году", "[..2026]", ()),
    ("ru", "Завершить до конца года.", "до конца года", "[..2025]", Y),
    ("ru", "Завершить до конца 2026 года.", "до конца 2026 года", "[..2026]", ()),
    ("ru", "Сдать не позднее 2030 года.", "не позднее 2030 года", "[..2030]", ()),
    ("ru", "Программа в период до 2035 года.", "в период до 2035 года", "../2035", ()),
    ("ru", "Действует с 1 января 2025 года.", "с 1 января 2025 года", "2025-01-01/..", ()),
    ("ru", "Действует с 2025 года.", "с 2025 года", "2025/..", ()),
    ("ru", "Станция не ранее 2028 года.", "не ранее 2028 года", "[2028..]", ()),
    ("en", "A roundtable by 2026.", "by 2026", "[..2026]", ()),
    ("en", "A programme until 2035.", "until 2035", "../2035", ()),
    ("en", "In force from 2025.", "from 2025", "2025/..", ()),
    ("en", "Done by the end of the year.", "by the end of the year", "[..2025]", Y),
    ("en", "Done no later than 2030.", "no later than 2030", "[..2030]", ()),
    # completed from the document's date
    ("ru", "Форум пройдет в следующем году.", "в следующем году", "2026", R),
    ("ru", "Визит состоялся в прошлом году.", "в прошлом году", "2024", R),
    ("ru", "Встреча в конце этого месяца.", "в конце этого месяца", "2025-05", R),
    ("en", "The summit was held last year.", "last year", "2024", R),
    ("en", "The forum will open next month.", "next month", "2025-06", R),
    # uncertainty
    ("ru", "Предположительно в 2030 году.", "Предположительно в 2030 году", "2030?", ()),
    ("ru", "Саммит предположительно пройдет в 2030 году.", "в 2030 году", "2030?", ()),
    ("ru", "Строительство около 2030 года.", "около 2030 года", "2030~", ()),
    ("en", "Completion around 2030.", "around 2030", "2030~", ()),
    ("en", "A summit possibly in 2030.", "possibly in 2030", "2030?", ()),
]


@pytest.mark.parametrize(("lang", "sentence", "expression", "edtf", "inferred"), FORMS)
def test_each_form_gives_its_edtf_and_says_what_was_inferred(
    lang: str, sentence: str, expression: str, edtf: str, inferred: tuple[str, ...]
) -> None:
    mentions = find_dates(sentence, lang=lang, document_date=DOC)
    assert [(m.text, m.edtf, m.inferred) for m in mentions] == [(expression, edtf, inferred)]
    assert sentence[mentions[0].start : mentions[0].end] == expression
    parse_edtf(edtf)  # every EDTF the grammar gives is one the timeline accepts


TRAPS = [
    ("ru", "Отношения развиваются более 30 лет."),
    ("ru", "Связи окрепли за последние три десятилетия."),
    ("ru", "Это главный вызов в XXI веке."),
    ("ru", "Он выступил на 72-й сессии Генеральной Ассамблеи."),
    ("ru", "Документ будет подписан в ближайшее время."),
    ("ru", "В форуме участвовали 3000 делегатов."),
    ("en", "Relations have grown for the past decade."),
    ("en", "They marked the tenth anniversary of relations."),
    ("en", "The leaders may meet again soon."),
    ("en", "They backed the 2030 Agenda for Sustainable Development."),
    ("en", "Some 3,000 delegates attended."),
    ("en", "In the first half of the meeting the ministers spoke."),
]


@pytest.mark.parametrize(("lang", "sentence"), TRAPS)
def test_what_is_not_a_date_yields_nothing(lang: str, sentence: str) -> None:
    assert find_dates(sentence, lang=lang, document_date=DOC) == []


def test_the_year_of_undated_forms_comes_from_the_document_not_from_today() -> None:
    mentions = find_dates(
        "Форум пройдет 3 и 4 апреля.", lang="ru", document_date=dt.date(2019, 1, 5)
    )
    assert [m.edtf for m in mentions] == ["2019-04-03/2019-04-04"]


def test_a_weekday_picks_the_year_that_has_it_nearest_the_document() -> None:
    # 6 November is a Thursday in 2025, a Friday in 2026: a January 2026 report means 2025
    text = "They met on Thursday, November 6."
    (mention,) = find_dates(text, lang="en", document_date=dt.date(2026, 1, 10))
    assert (mention.edtf, mention.inferred) == ("2025-11-06", (WEEKDAY_YEAR,))
    (mention,) = find_dates(
        "Встреча прошла в четверг, 6 ноября.", lang="ru", document_date=dt.date(2026, 1, 10)
    )
    assert (mention.text, mention.edtf) == ("в четверг, 6 ноября", "2025-11-06")
    (mention,) = find_dates(text, lang="en", document_date=dt.date(2025, 5, 30))
    assert (mention.edtf, mention.inferred) == ("2025-11-06", (YEAR_FROM_DOCUMENT,))


def test_several_dates_in_one_sentence_are_found_in_order() -> None:
    text = "Первая встреча состоялась в марте 2018 года, вторая — в ноябре 2019 года в Ташкенте."
    assert [m.edtf for m in find_dates(text, lang="ru", document_date=DOC)] == [
        "2018-03",
        "2019-11",
    ]


def test_a_dateline_without_a_year_takes_the_documents_year_and_says_so() -> None:
    found = dateline(
        "ТАШКЕНТ, 16 ноября — Sputnik. Президент...", document_date=dt.date(2025, 11, 16)
    )
    assert found is not None
    place, mention = found
    assert place == "ТАШКЕНТ"
    assert mention.edtf == "2025-11-16"
    assert YEAR_FROM_DOCUMENT in mention.inferred
    assert dateline("Ташкент, 16 ноября — встреча", document_date=DOC) is None  # not a dateline
