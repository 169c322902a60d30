"""The service's words, one catalogue per language: what every projection and page says.

The closed sets these words name stay where the rules about them live (events/facts.py:
KINDS, STATUSES, ORGANISATIONS, LANGUAGES); this module only says them. One word per
meaning, everywhere: the calendar, TimelineJS, the JSON-fed pages, the workspace and (through
`for_widget`) the widget say "postponed" and "date passed, outcome unknown" alike.

Adding a language takes:
- one `Catalogue` in CATALOGUES below (tests/test_vocabulary.py checks it names every
  status, kind, organisation and event type);
- one date formatter in events/dates.py (`_en`, `_ru`: each `DateBounds.label` is made in
  every language there, on the write side);
- its code in events.facts.LANGUAGES, and country names: pycountry's translations serve
  (`_STATE_NAMES` overrides the few the source documents name otherwise);
- the words of the pages that are only theirs (service/http/pages.py WORDS,
  projections/calendar.py TEXT).
"""

from __future__ import annotations

import functools
import gettext
from typing import Final

import msgspec
import pycountry


class Catalogue(msgspec.Struct, frozen=True, kw_only=True):
    """The words of one language."""

    statuses: dict[str, str]  # every status, in lower case, as it reads mid-sentence
    kinds: dict[str, str]  # every kind
    organisations: dict[str, str]  # every organisation code's display name
    events: dict[str, str]  # what each event type did, as a fact's history says it
    labels: dict[str, str]  # the labels several projections put before a fact's fields


CATALOGUES: Final[dict[str, Catalogue]] = {
    "en": Catalogue(
        statuses={
            "held": "held",
            "planned": "planned",
            "proposed": "proposed",
            "postponed": "postponed",
            "cancelled": "cancelled",
            "elapsed": "date passed, outcome unknown",
        },
        kinds={
            "summit": "summit",
            "meeting": "meeting",
            "conference": "conference",
            "treaty": "treaty",
            "agreement": "agreement",
            "roundtable": "roundtable",
            "initiative": "initiative",
            "programme": "programme",
            "document": "document",
            "visit": "visit",
            "forum": "forum",
            "election": "election",
            "other": "other",
        },
        organisations={
            "EU": "European Union",
            "UN": "United Nations",
            "CIS": "Commonwealth of Independent States",
            "SCO": "Shanghai Cooperation Organisation",
            "CSTO": "Collective Security Treaty Organisation",
            "EAEU": "Eurasian Economic Union",
            "OSCE": "Organization for Security and Co-operation in Europe",
            "OTS": "Organization of Turkic States",
            "CICA": "Conference on Interaction and Confidence-Building Measures in Asia",
            "ECO": "Economic Cooperation Organization",
            "NATO": "NATO",
            "ASEAN": "ASEAN",
            "OIC": "Organisation of Islamic Cooperation",
            "EBRD": "European Bank for Reconstruction and Development",
            "ADB": "Asian Development Bank",
            "WB": "World Bank",
            "IMF": "International Monetary Fund",
            "IFAS": "International Fund for Saving the Aral Sea",
        },
        events={
            "FactRecorded": "recorded",
            "FactRevised": "text revised",
            "FactRescheduled": "date changed",
            "FactStatusChanged": "status changed",
            "SourceCited": "source added",
            "FactRetracted": "retracted",
        },
        labels={
            "site": "Central Asia diplomacy",
            "date": "Date",
            "status": "Status",
            "kind": "Kind",
            "place": "Place",
            "participants": "Participants",
            "sources": "Sources",
            "add_to_calendar": "Add to calendar",
            "more": "More",
        },
    ),
    "ru": Catalogue(
        statuses={
            "held": "состоялось",
            "planned": "запланировано",
            "proposed": "предложено",
            "postponed": "перенесено",
            "cancelled": "отменено",
            "elapsed": "дата прошла, итог неизвестен",
        },
        kinds={
            "summit": "саммит",
            "meeting": "встреча",
            "conference": "конференция",
            "treaty": "договор",
            "agreement": "соглашение",
            "roundtable": "круглый стол",
            "initiative": "инициатива",
            "programme": "программа",
            "document": "документ",
            "visit": "визит",
            "forum": "форум",
            "election": "выборы",
            "other": "другое",
        },
        organisations={
            "EU": "Европейский союз",
            "UN": "Организация Объединённых Наций",
            "CIS": "Содружество Независимых Государств",
            "SCO": "Шанхайская организация сотрудничества",
            "CSTO": "Организация Договора о коллективной безопасности",
            "EAEU": "Евразийский экономический союз",
            "OSCE": "Организация по безопасности и сотрудничеству в Европе",
            "OTS": "Организация тюркских государств",
            "CICA": "Совещание по взаимодействию и мерам доверия в Азии",
            "ECO": "Организация экономического сотрудничества",
            "NATO": "НАТО",
            "ASEAN": "АСЕАН",
            "OIC": "Организация исламского сотрудничества",
            "EBRD": "Европейский банк реконструкции и развития",
            "ADB": "Азиатский банк развития",
            "WB": "Всемирный банк",
            "IMF": "Международный валютный фонд",
            "IFAS": "Международный фонд спасения Арала",
        },
        events={
            "FactRecorded": "записано",
            "FactRevised": "текст изменен",
            "FactRescheduled": "дата изменена",
            "FactStatusChanged": "статус изменен",
            "SourceCited": "добавлен источник",
            "FactRetracted": "отозвано",
        },
        labels={
            "site": "Дипломатия Центральной Азии",
            "date": "Дата",
            "status": "Статус",
            "kind": "Тип",
            "place": "Место",
            "participants": "Участники",
            "sources": "Источники",
            "add_to_calendar": "Добавить в календарь",
            "more": "Подробнее",
        },
    ),
}

# pycountry's Russian names follow ISO; the source documents use the names these states
# use for themselves in Russian.
_STATE_NAMES = {"ru": {"KG": "Кыргызстан", "MD": "Молдова", "BY": "Беларусь", "US": "США"}}


def words(lang: str) -> Catalogue:
    """The catalogue of a language; English for one the service does not speak."""
    return CATALOGUES.get(lang) or CATALOGUES["en"]


def status_word(status: str, lang: str) -> str:
    return words(lang).statuses.get(status, status)


def kind_word(kind: str, lang: str) -> str:
    return words(lang).kinds.get(kind, kind)


def event_word(type_name: str, lang: str) -> str:
    """What an event did ("FactRevised.v1" → "text revised"); the name itself if unknown."""
    name = type_name.split(".")[0]
    return words(lang).events.get(name, name)


@functools.cache
def _translations(lang: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


@functools.cache
def participant_name(code: str, lang: str) -> str:
    """The name of a state (ISO alpha-2) or organisation code; the code itself if unknown."""
    organisation = words(lang).organisations.get(code)
    if organisation is not None:
        return organisation
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    if lang == "en":
        return getattr(country, "common_name", None) or country.name
    return _STATE_NAMES.get(lang, {}).get(code) or _translations(lang).gettext(country.name)


def for_widget(lang: str) -> dict[str, object]:
    """The widget's words from the catalogue, under the widget's own keys (its STRINGS in
    service/widget/), for the server to give it instead of its own copies."""
    catalogue = words(lang)
    return {
        "status": dict(catalogue.statuses),
        "kind": dict(catalogue.kinds),
        "organisations": dict(catalogue.organisations),
        "place": catalogue.labels["place"],
        "participants": catalogue.labels["participants"],
        "sources": catalogue.labels["sources"],
        "ics": catalogue.labels["add_to_calendar"],
    }
