"""The elapse rule, given/when/then, with no database: which facts elapse on a given day."""

from __future__ import annotations

import datetime as dt

import pytest

from events import elapse
from events.decider import ChangeFact, FactNotFound, FactState, decide, fold
from events.elapse import MarkElapsed
from events.facts import DateInput
from events.model import Event, FactRecorded, FactRescheduled, FactRetracted, FactStatusChanged
from tests.factories import make_fact

ELAPSED = [FactStatusChanged(status="elapsed")]


def given(*events: Event) -> FactState | None:
    return fold(events)


def recorded(status: str, edtf: str) -> FactRecorded:
    return FactRecorded(fact=make_fact("plan", status=status, date={"edtf": edtf}))


def when_elapse_on(state: FactState | None, day: str) -> list[Event]:
    return elapse.decide(MarkElapsed(dt.date.fromisoformat(day)), state)


@pytest.mark.parametrize("status", ["planned", "proposed"])
def test_a_plan_whose_last_day_has_passed_elapses(status: str):
    state = given(recorded(status, "2026-03-13"))
    assert when_elapse_on(state, "2026-03-14") == ELAPSED


def test_a_plan_does_not_elapse_on_its_last_day_or_before():
    state = given(recorded("planned", "2026-03-13"))
    assert when_elapse_on(state, "2026-03-13") == []
    assert when_elapse_on(state, "2025-12-31") == []


@pytest.mark.parametrize("status", ["held", "postponed", "cancelled", "elapsed"])
def test_facts_that_are_not_waiting_for_news_never_elapse(status: str):
    state = given(recorded(status, "2018-03-13"))
    assert when_elapse_on(state, "2026-01-01") == []


@pytest.mark.parametrize(
    ("edtf", "last_day"),
    [
        ("2018-03", "2018-03-31"),  # a month ends on its last day
        ("2026-21", "2026-05-31"),  # spring
        ("2025-24", "2026-02-28"),  # winter runs into the next year
        ("2027", "2027-12-31"),
        ("2026-03-30/2026-04-02", "2026-04-02"),  # an interval ends with its end
        ("../2035", "2035-12-31"),  # until 2035: an open start, a closed end
        ("[..2026]", "2026-12-31"),  # by 2026
        ("2026~", "2026-12-31"),  # approximate: its nominal end, like the timeline's `end`
    ],
)
def test_a_plan_elapses_the_day_after_its_window_ends_at_its_own_precision(
    edtf: str, last_day: str
):
    state = given(recorded("planned", edtf))
    day_after = (dt.date.fromisoformat(last_day) + dt.timedelta(days=1)).isoformat()
    assert when_elapse_on(state, last_day) == []
    assert when_elapse_on(state, day_after) == ELAPSED


@pytest.mark.parametrize("edtf", ["2020/..", "[2020..]"])
def test_a_period_with_no_end_never_elapses(edtf: str):
    assert when_elapse_on(given(recorded("planned", edtf)), "2099-01-01") == []


def test_the_window_is_the_current_date_after_a_reschedule():
    state = given(recorded("planned", "2025-05"), FactRescheduled(date=DateInput("2026-09")))
    assert when_elapse_on(state, "2026-06-01") == []
    assert when_elapse_on(state, "2026-10-01") == ELAPSED


def test_marking_is_once_only():
    state = given(recorded("planned", "2025-05"), *ELAPSED)
    assert state is not None and state.fact.status == "elapsed"
    assert when_elapse_on(state, "2026-01-01") == []


def test_a_retracted_fact_does_not_elapse():
    assert (
        when_elapse_on(given(recorded("planned", "2025-05"), FactRetracted()), "2026-01-01") == []
    )


def test_there_is_nothing_to_mark_for_an_unknown_fact():
    with pytest.raises(FactNotFound):
        when_elapse_on(given(), "2026-01-01")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (ChangeFact(status="held"), [FactStatusChanged(status="held")]),
        (ChangeFact(status="cancelled"), [FactStatusChanged(status="cancelled")]),
        (
            ChangeFact(date=DateInput("2026-11"), status="planned"),
            [FactRescheduled(date=DateInput("2026-11")), FactStatusChanged(status="planned")],
        ),
    ],
)
def test_an_editor_can_still_confirm_cancel_or_reschedule_an_elapsed_fact(change, expected):
    state = given(recorded("planned", "2025-05"), *ELAPSED)
    assert decide(change, state) == expected


def test_the_reason_names_the_window_and_the_day():
    fact = make_fact("plan", status="planned", date={"edtf": "2018-03"})
    text = elapse.reason(fact, dt.date(2018, 4, 1))
    assert "March 2018" in text and "2018-03-31" in text and "2018-04-01" in text
