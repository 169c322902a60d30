"""The one vocabulary: every closed set said in every language, one word per meaning."""

from __future__ import annotations

import pytest

from events.facts import COUNTRIES, KINDS, LANGUAGES, ORGANISATIONS, STATUSES
from events.model import EVENT_TYPES
from projections import timelinejs, vocabulary
from projections.items import DateView, Item, Links
from projections.vocabulary import CATALOGUES, for_widget, participant_name

# The events a fact's history shows (the others are documents' and seed files' streams).
FACT_EVENTS = {"FactRecorded", "FactRevised", "FactRescheduled", "FactStatusChanged"}
FACT_EVENTS |= {"SourceCited", "FactRetracted"}


def test_every_language_has_a_catalogue():
    assert set(CATALOGUES) == set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_accepted_organisation_has_a_name_in_every_language(lang):
    names = CATALOGUES[lang].organisations
    assert set(names) == ORGANISATIONS
    for code in ORGANISATIONS:
        assert participant_name(code, lang) == names[code] and names[code].strip()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_status_kind_and_fact_event_has_a_word(lang):
    catalogue = CATALOGUES[lang]
    assert set(catalogue.statuses) == STATUSES
    assert set(catalogue.kinds) == KINDS
    assert set(catalogue.events) == FACT_EVENTS <= {n.split(".")[0] for n in EVENT_TYPES}
    assert all(catalogue.statuses.values()) and all(catalogue.kinds.values())
    assert set(catalogue.labels) == set(CATALOGUES["en"].labels)


def test_organisation_codes_are_no_state_s_code():
    assert not ORGANISATIONS & COUNTRIES
    assert participant_name("AU", "en") == "Australia"
    assert participant_name("AU", "ru") == "Австралия"


def test_the_words_chosen_once():
    assert vocabulary.status_word("postponed", "ru") == "перенесено"
    assert vocabulary.status_word("elapsed", "en") == "date passed, outcome unknown"
    assert vocabulary.status_word("elapsed", "ru") == "дата прошла, итог неизвестен"


def test_timelinejs_says_the_catalogue_s_status_word():
    item = Item(
        id="x",
        title="X",
        summary="",
        kind="summit",
        status="postponed",
        date=DateView(
            edtf="2031-05",
            start="2031-05-01",
            end="2031-05-31",
            precision="month",
            label="май 2031",
        ),
        place=None,
        participants=[],
        tags=[],
        sources=[],
        version=1,
        updated_at="2025-01-01T00:00:00Z",
        links=Links(self="s", page="p", ics="i", webcal="w", history="h"),
    )
    assert "<strong>Перенесено</strong>" in timelinejs.event(item, "ru").text.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_widget_s_words_come_from_the_catalogue(lang):
    widget = for_widget(lang)
    assert widget["status"] == CATALOGUES[lang].statuses
    assert widget["kind"] == CATALOGUES[lang].kinds
    assert widget["organisations"] == CATALOGUES[lang].organisations
    assert widget["ics"] == CATALOGUES[lang].labels["add_to_calendar"]
