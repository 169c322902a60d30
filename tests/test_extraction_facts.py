"""Kind, status, place and participants of proposals: one row per form, both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from seeds.extraction import extract

DOC = dt.date(2025, 6, 1)


def _one(text: str, lang: str):
    proposals = extract(text, lang=lang, document_date=DOC).proposals
    assert len(proposals) == 1, [p.date.edtf for p in proposals]
    return proposals[0]


STATUSES = [
    ("ru", "Саммит состоялся 30 мая 2025 года.", "held"),
    ("ru", "Форум прошел в марте 2025 года.", "held"),
    ("ru", "Саммит пройдет 3 и 4 апреля 2026 года.", "planned"),
    ("ru", "Встреча состоится в 2026 году.", "planned"),
    ("ru", "Конференция планируется весной 2026 года.", "planned"),
    ("ru", "Визит намечен на осень 2026 года.", "planned"),
    ("ru", "Президент предложил провести форум в 2027 году.", "proposed"),
    ("ru", "Саммит, назначенный на март 2026 года, отложен.", "postponed"),
    ("ru", "Форум перенесен на 2027 год.", "postponed"),
    ("ru", "Встреча, намеченная на май 2026 года, отменена.", "cancelled"),
    ("en", "The summit was held on 13 March 2025.", "held"),
    ("en", "The forum took place in March 2025.", "held"),
    ("en", "Kazakhstan will host the summit in 2026.", "planned"),
    ("en", "The conference is scheduled for spring 2026.", "planned"),
    ("en", "Uzbekistan proposed a forum in 2027.", "proposed"),
    ("en", "The summit planned for March 2026 was postponed.", "postponed"),
    ("en", "The meeting set for May 2026 was cancelled.", "cancelled"),
    # no word says it: the date against the document's date
    ("ru", "Саммит в Астане 12 мая 2025 года.", "held"),
    ("en", "A summit in Astana in 2027.", "planned"),
]


@pytest.mark.parametrize(("lang", "text", "status"), STATUSES)
def test_status_from_tense_and_verbs(lang: str, text: str, status: str) -> None:
    assert _one(text, lang).status == status


KINDS = [
    ("ru", "Саммит состоялся в 2024 году.", "summit"),
    ("ru", "Встреча министров прошла в 2024 году.", "meeting"),
    ("ru", "Конференция прошла в 2024 году.", "conference"),
    ("ru", "Государственный визит состоялся в 2024 году.", "visit"),
    ("ru", "Бизнес-форум прошел в 2024 году.", "forum"),
    ("ru", "Договор подписан 13 марта 2025 года.", "treaty"),
    ("ru", "Соглашение подписано в 2024 году.", "agreement"),
    ("ru", "Круглый стол пройдет к 2026 году.", "roundtable"),
    ("ru", "Программа принята в 2024 году.", "programme"),
    ("ru", "Инициатива выдвинута в 2017 году.", "initiative"),
    ("en", "The summit was held in 2024.", "summit"),
    ("en", "The talks took place in 2024.", "meeting"),
    ("en", "The treaty was signed in 2024.", "treaty"),
    ("en", "A round table by 2026.", "roundtable"),
    ("en", "The programme until 2035.", "programme"),
    ("en", "The visit took place in 2024.", "visit"),
]


@pytest.mark.parametrize(("lang", "text", "kind"), KINDS)
def test_kind_from_the_event_word(lang: str, text: str, kind: str) -> None:
    assert _one(text, lang).kind == kind


PLACES = [
    ("ru", "Саммит прошел в Астане в 2024 году.", "Astana", "KZ"),
    ("ru", "Саммит прошел в 2024 году в Ашхабаде.", "Ashgabat", "TM"),
    ("ru", "Саммит прошел в столице Казахстана в 2024 году.", "Astana", "KZ"),
    ("ru", "Форум прошел в туркменском городе Аваза в 2024 году.", "Avaza", "TM"),
    ("ru", "Конференция пройдет в Италии весной 2026 года.", "Italy", "IT"),
    ("ru", "Сессия прошла в Нью-Йорке, встреча — в сентябре 2017 года.", "New York", "US"),
    ("en", "The summit was held in Samarkand on 3–4 April 2025.", "Samarkand", "UZ"),
    ("en", "The meeting took place in the capital of Uzbekistan in 2019.", "Tashkent", "UZ"),
    ("en", "A conference in Italy in spring 2026.", "Italy", "IT"),
]


@pytest.mark.parametrize(("lang", "text", "name", "country"), PLACES)
def test_place_in_any_case_resolves_to_name_and_country(
    lang: str, text: str, name: str, country: str
) -> None:
    place = _one(text, lang).place
    assert place is not None
    assert (place.name["en"], place.country) == (name, country)


PARTICIPANTS = [
    (
        "ru",
        "Президенты Казахстана и Узбекистана провели встречу в 2024 году.",
        {"KZ", "UZ"},
    ),
    (
        "ru",
        "Глава итальянского правительства и кыргызская делегация провели встречу в 2024 году.",
        {"IT", "KG"},
    ),
    (
        "ru",
        "Токаев и Мирзиёев провели встречу в 2024 году.",
        {"KZ", "UZ"},
    ),
    (
        "ru",
        "Саммит «Центральная Азия – ЕС» прошел в 2025 году.",
        {"KZ", "KG", "TJ", "TM", "UZ", "EU"},
    ),
    (
        "ru",
        "Встреча Кыргызской Республики и Республики Таджикистан с ООН прошла в 2024 году.",
        {"KG", "TJ", "UN"},
    ),
    (
        "en",
        "Kazakhstan and the European Union held a summit in 2024.",
        {"KZ", "EU"},
    ),
    (
        "en",
        "The Uzbek and Tajik presidents met at the SCO summit in 2024.",
        {"UZ", "TJ", "SCO"},
    ),
]


@pytest.mark.parametrize(("lang", "text", "participants"), PARTICIPANTS)
def test_participants_from_names_adjectives_leaders_and_organisations(
    lang: str, text: str, participants: set[str]
) -> None:
    assert set(_one(text, lang).participants) == participants


def test_a_title_in_the_documents_language_and_a_generated_one() -> None:
    proposal = _one(
        "Третья министерская конференция «Центральная Азия + Италия» прошла в Риме в 2024 году.",
        "ru",
    )
    assert proposal.title == {
        "ru": "Третья министерская конференция «Центральная Азия + Италия» в Риме",
        "en": "Third Central Asia + Italy conference in Rome",
    }
    assert proposal.generated == ["title.en"]
    english = _one("The first Central Asia summit was held in Astana in 2018.", "en")
    assert english.title["en"] == "First Central Asia summit in Astana"
    assert "title.en" not in english.generated
