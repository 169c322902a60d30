"""The fact's rules as given / when / then, with no database."""

from __future__ import annotations

import pytest

from events.decider import (
    ChangeFact,
    CiteSource,
    FactAlreadyExists,
    FactIsRetracted,
    FactNotFound,
    RecordFact,
    RetractFact,
    decide,
    fold,
)
from events.facts import DateInput, FactError, Source
from events.model import (
    FactRecorded,
    FactRescheduled,
    FactRetracted,
    FactRevised,
    FactStatusChanged,
    SourceCited,
)
from tests.factories import make_fact

FACT = make_fact()


def given(*events):
    return fold(events)


def test_recording_a_new_fact():
    assert decide(RecordFact(FACT), given()) == [FactRecorded(fact=FACT)]


def test_recording_an_existing_fact_is_refused():
    with pytest.raises(FactAlreadyExists):
        decide(RecordFact(FACT), given(FactRecorded(fact=FACT)))


def test_recording_an_invalid_fact_names_the_field():
    bad = make_fact(participants=["XX"])
    with pytest.raises(FactError) as error:
        decide(RecordFact(bad), given())
    assert error.value.field == "participants[0]"


@pytest.mark.parametrize("field", ["participants", "tags"])
def test_a_list_naming_a_value_twice_is_refused_as_recorded_or_changed(field):
    twice = ["KZ", "UZ", "KZ"] if field == "participants" else ["summit", "water", "summit"]
    for command, state in [
        (RecordFact(make_fact(**{field: twice})), given()),
        (ChangeFact(**{field: twice}), given(FactRecorded(fact=FACT))),
    ]:
        with pytest.raises(FactError, match="twice") as error:
            decide(command, state)
        assert error.value.field == field


def test_a_new_date_is_a_reschedule():
    events = decide(ChangeFact(date=DateInput("2025-04-05")), given(FactRecorded(fact=FACT)))
    assert events == [FactRescheduled(date=DateInput("2025-04-05"))]


def test_a_new_status_is_a_status_change():
    events = decide(ChangeFact(status="cancelled"), given(FactRecorded(fact=FACT)))
    assert events == [FactStatusChanged(status="cancelled")]


def test_a_new_date_for_an_elapsed_plan_makes_it_planned_again():
    elapsed = given(FactRecorded(fact=FACT), FactStatusChanged(status="elapsed"))
    events = decide(ChangeFact(date=DateInput("2031-04-05")), elapsed)
    assert events == [
        FactRescheduled(date=DateInput("2031-04-05")),
        FactStatusChanged(status="planned"),
    ]
    # unless the editor says which status it has now
    events = decide(ChangeFact(date=DateInput("2025-04-05"), status="held"), elapsed)
    assert events == [FactRescheduled(date=DateInput("2025-04-05")), FactStatusChanged("held")]
    # and a change of text alone leaves it elapsed
    summary = decide(ChangeFact(summary={"en": "No news."}), elapsed)
    assert not any(isinstance(e, FactStatusChanged) for e in summary)


def test_new_text_is_a_revision_of_only_the_languages_that_changed():
    state = given(FactRecorded(fact=FACT))
    events = decide(ChangeFact(title={"en": "Renamed", "ru": FACT.title["ru"]}), state)
    assert events == [FactRevised(title={"en": "Renamed"})]
    after = fold(events, state)
    assert after.fact.title == {"en": "Renamed", "ru": FACT.title["ru"]}


def test_several_changes_give_one_event_each_kind():
    events = decide(
        ChangeFact(title={"ru": "Новое"}, date=DateInput("2026"), status="planned"),
        given(FactRecorded(fact=FACT)),
    )
    assert [type(e) for e in events] == [FactRevised, FactRescheduled, FactStatusChanged]


def test_a_change_that_changes_nothing_appends_nothing():
    assert decide(ChangeFact(title=FACT.title, status="held"), given(FactRecorded(fact=FACT))) == []


def test_an_impossible_date_is_refused():
    with pytest.raises(FactError) as error:
        decide(ChangeFact(date=DateInput("2025-02-30")), given(FactRecorded(fact=FACT)))
    assert error.value.field == "date.edtf"


def test_an_unknown_language_is_refused():
    with pytest.raises(FactError) as error:
        decide(ChangeFact(title={"de": "Gipfel"}), given(FactRecorded(fact=FACT)))
    assert error.value.field == "title.de"


def test_changing_an_unknown_fact_is_refused():
    with pytest.raises(FactNotFound):
        decide(ChangeFact(status="held"), given())


def test_retracting_then_changing_is_refused():
    state = given(FactRecorded(fact=FACT))
    assert decide(RetractFact(), state) == [FactRetracted()]
    retracted = given(FactRecorded(fact=FACT), FactRetracted())
    assert retracted.retracted
    with pytest.raises(FactIsRetracted):
        decide(ChangeFact(status="held"), retracted)


def test_citing_a_source_adds_it_once():
    source = Source(title="News report", date=FACT.sources[0].date, locator="paragraph 2")
    state = given(FactRecorded(fact=FACT))
    events = decide(CiteSource(source), state)
    assert events == [SourceCited(source=source)]
    assert decide(CiteSource(source), fold(events, state)) == []
