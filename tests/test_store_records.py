"""The store's pure parts, without a database: instants, recording appends, the chain."""

from __future__ import annotations

import datetime as dt
import time

import msgspec
import pytest

from events.facts import DateInput
from events.instants import format_instant, parse_instant, text_clock, utc_now, utc_now_text
from events.model import FactRescheduled
from events.store.records import (
    EMPTY_HEAD,
    GENESIS_HASH,
    NO_STREAM,
    Append,
    ConcurrencyError,
    chain_fault,
    chain_hash,
    check_chain,
    expected_versions,
    head_of,
    record,
)
from tests.factories import StepClock

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NOW = format_instant(START)


def reschedule(edtf: str) -> FactRescheduled:
    return FactRescheduled(date=DateInput(edtf))


def test_the_default_clock_writes_instants_as_format_instant_does():
    for _ in range(3):
        before = format_instant(dt.datetime.now(dt.UTC))
        text = utc_now_text()
        after = format_instant(dt.datetime.now(dt.UTC))
        assert before <= text <= after
        assert format_instant(parse_instant(text)) == text
        time.sleep(0.6)  # into another second: the cached date and time are made anew


def test_a_text_clock_formats_any_clock_and_takes_the_fast_way_for_the_system_one():
    assert text_clock(utc_now) is utc_now_text
    assert text_clock(StepClock(START))() == "2025-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_instant(dt.datetime(2025, 1, 1))


def test_record_numbers_versions_and_positions_and_chains_the_hashes():
    appends = [
        Append("a", [reschedule("2026"), reschedule("2027")]),
        Append("b", [reschedule("1")]),
    ]
    versions = {"a": 4}
    recorded = record(appends, EMPTY_HEAD, versions, actor="x", reason="why", now=NOW)
    assert [(r.stream_id, r.version, r.position) for r in recorded] == [
        ("a", 5, 1),
        ("a", 6, 2),
        ("b", 1, 3),
    ]
    assert versions == {"a": 6, "b": 1}
    assert {(r.actor, r.reason, r.recorded_at) for r in recorded} == {("x", "why", NOW)}
    previous = GENESIS_HASH
    for r in recorded:
        assert r.hash == chain_hash(previous, r)
        previous = r.hash
    assert recorded[0].event() == reschedule("2026")
    assert head_of(recorded) == (3, recorded[-1].hash, NOW)


def test_record_continues_after_a_head_and_never_goes_back_in_time():
    first = record(
        [Append("a", [reschedule("2026")])], EMPTY_HEAD, {}, actor="x", reason=None, now=NOW
    )
    earlier = format_instant(START - dt.timedelta(days=1))
    [second] = record(
        [Append("a", [reschedule("2027")])],
        head_of(first),
        {"a": 1},
        actor="x",
        reason=None,
        now=earlier,
    )
    assert (second.position, second.version, second.recorded_at) == (2, 2, NOW)
    check_chain(EMPTY_HEAD, [*first, second])


def test_record_refuses_a_stream_not_at_its_expected_version():
    with pytest.raises(ConcurrencyError) as error:
        record(
            [Append("new", [reschedule("1")], NO_STREAM), Append("a", [reschedule("2")], 3)],
            EMPTY_HEAD,
            {"a": 2},
            actor="x",
            reason=None,
            now=NOW,
        )
    assert (error.value.stream_id, error.value.expected, error.value.actual) == ("a", 3, 2)


def test_what_can_be_tried_on_a_guessed_head():
    events = [reschedule("2026")]
    assert expected_versions([Append("a", events, 0), Append("b", events, 2)]) == {"a": 0, "b": 2}
    assert expected_versions([Append("a", events)]) is None  # any version: nothing to guard
    assert expected_versions([Append("a", [], 0)]) is None  # nothing to insert
    assert expected_versions([Append("a", events, 0), Append("a", events, 1)]) is None


def test_the_chain_is_checked_event_by_event():
    recorded = record(
        [Append("a", [reschedule("1"), reschedule("2"), reschedule("3")])],
        EMPTY_HEAD,
        {},
        actor="x",
        reason=None,
        now=NOW,
    )
    assert chain_fault(0, GENESIS_HASH, recorded[0]) is None
    assert chain_fault(1, GENESIS_HASH, recorded[0]) == (
        "event at position 1 does not follow position 1"
    )
    doctored = msgspec.structs.replace(recorded[1], data='{"date":{"edtf":"1999"}}')
    assert chain_fault(1, recorded[0].hash, doctored) == "event at position 2 breaks the hash chain"
    check_chain(EMPTY_HEAD, recorded)
    with pytest.raises(ValueError, match="position 2 breaks"):
        check_chain(EMPTY_HEAD, [recorded[0], doctored, recorded[2]])
    with pytest.raises(ValueError, match="position 3 does not follow position 1"):
        check_chain(EMPTY_HEAD, [recorded[0], recorded[2]])
    check_chain(head_of(recorded[:1]), recorded[1:])
