"""Our own RFC 5545 checks of a feed, and the independent parsers that must read it.

The checks look at the bytes on the wire, as a strict client would: CRLF line ends,
folding at 75 octets without splitting a UTF-8 character, the content-line grammar,
escaping of TEXT values, required and unique properties, all-day DTEND after DTSTART.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import icalendar
import vobject
from ical.calendar_stream import IcsCalendarStream

ICALJS = Path(__file__).parent / "icaljs"

_NAME = re.compile(r"^(?:X-[A-Za-z0-9-]+|[A-Za-z0-9-]+)$")
_PARAM = re.compile(
    r'^[A-Za-z0-9-]+=(?:"[^"\x00-\x1f]*"|[^";:,\x00-\x1f]*)(?:,(?:"[^"]*"|[^";:,]*))*$'
)
_TEXT_PROPERTIES = {"SUMMARY", "DESCRIPTION", "LOCATION", "NAME", "X-WR-CALNAME", "X-WR-CALDESC"}
_ESCAPE = re.compile(r"\\(.?)")


class Line(NamedTuple):
    name: str
    params: dict[str, str]
    value: str


class Component(NamedTuple):
    name: str
    lines: list[Line]

    def values(self, name: str) -> list[str]:
        return [line.value for line in self.lines if line.name == name]

    def one(self, name: str) -> Line:
        found = [line for line in self.lines if line.name == name]
        assert len(found) == 1, f"{self.name}: {name} appears {len(found)} times, not once"
        return found[0]


def unescape_text(value: str) -> str:
    """A TEXT value as a reader sees it; refuses a stray backslash or unescaped ; or ,."""
    for match in _ESCAPE.finditer(value):
        assert match.group(1) in ("\\", ";", ",", "n", "N"), f"bad escape in {value!r}"
    stripped = _ESCAPE.sub("", value)
    assert ";" not in stripped and "," not in stripped, f"unescaped ; or , in {value!r}"
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split(content_line: str) -> Line:
    # name *(";" param) ":" value; a ":" inside a quoted parameter value is not the split.
    in_quotes, cut = False, -1
    for i, char in enumerate(content_line):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            cut = i
            break
    assert cut > 0, f"no ':' in content line {content_line!r}"
    head, value = content_line[:cut], content_line[cut + 1 :]
    name, *params = head.split(";")
    assert _NAME.match(name), f"bad property name {name!r}"
    parsed = {}
    for param in params:
        assert _PARAM.match(param), f"bad parameter {param!r} in {content_line!r}"
        key, _, val = param.partition("=")
        parsed[key.upper()] = val
    return Line(name.upper(), parsed, value)


def check_feed(data: bytes) -> tuple[Component, list[Component]]:
    """Checks the bytes; returns the calendar's own lines and its events."""
    assert data, "an empty body (Thunderbird would wipe the calendar)"
    assert data.endswith(b"\r\n"), "the last line does not end with CRLF"
    assert b"\n" not in data.replace(b"\r\n", b""), "a bare LF line end"
    assert b"\r" not in data.replace(b"\r\n", b""), "a bare CR"
    physical = data.split(b"\r\n")[:-1]
    content: list[str] = []
    for raw in physical:
        assert len(raw) <= 75, f"line of {len(raw)} octets: {raw[:80]!r}"
        line = raw.decode("utf-8")  # raises if folding split a UTF-8 character
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", line), f"control character in {line!r}"
        if line.startswith((" ", "\t")):
            assert content, "a continuation line first"
            content[-1] += line[1:]
        else:
            content.append(line)
    lines = [_split(c) for c in content]
    assert lines[0] == Line("BEGIN", {}, "VCALENDAR"), lines[0]
    assert lines[-1] == Line("END", {}, "VCALENDAR"), lines[-1]

    calendar = Component("VCALENDAR", [])
    events: list[Component] = []
    stack: list[Component] = [calendar]
    for line in lines[1:-1]:
        if line.name == "BEGIN":
            assert line.value == "VEVENT", f"unexpected component {line.value}"
            assert len(stack) == 1, "nested VEVENT"
            stack.append(Component("VEVENT", []))
        elif line.name == "END":
            assert len(stack) == 2 and line.value == "VEVENT", f"unbalanced END:{line.value}"
            events.append(stack.pop())
        else:
            if line.name in _TEXT_PROPERTIES:
                unescape_text(line.value)
            stack[-1].lines.append(line)
    assert len(stack) == 1, "a VEVENT is not closed"

    assert calendar.one("VERSION").value == "2.0"
    calendar.one("PRODID")
    if calendar.values("METHOD"):
        assert all(e.values("ORGANIZER") for e in events), "METHOD without ORGANIZER"

    uids = [e.one("UID").value for e in events]
    assert len(uids) == len(set(uids)), "duplicate UIDs"
    for event in events:
        for name in ("DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS"):
            event.one(name)
        stamp = event.one("DTSTAMP").value
        assert re.fullmatch(r"\d{8}T\d{6}Z", stamp), f"DTSTAMP {stamp} is not UTC"
        start, end = event.one("DTSTART"), event.one("DTEND")
        assert start.params == {"VALUE": "DATE"} and end.params == {"VALUE": "DATE"}
        assert _date(end.value) > _date(start.value), f"DTEND {end.value} <= DTSTART"
        assert event.one("STATUS").value in ("TENTATIVE", "CONFIRMED", "CANCELLED")
    return calendar, events


def _date(value: str) -> dt.date:
    assert re.fullmatch(r"\d{8}", value), f"not a DATE: {value}"
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))


class Parsed(NamedTuple):
    """What a parser read: (uid, summary, start, end) per event, in order."""

    parser: str
    events: list[tuple[str, str, str, str]]


def parse_with_vobject(data: bytes) -> Parsed:
    calendar = vobject.readOne(data.decode("utf-8"), validate=True)
    events = [
        (
            e.uid.value,
            e.summary.value,
            e.dtstart.value.isoformat(),
            e.dtend.value.isoformat(),
        )
        for e in getattr(calendar, "vevent_list", [])
    ]
    return Parsed("vobject", events)


def parse_with_ical(data: bytes) -> Parsed:
    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    events = [
        (e.uid or "", e.summary or "", e.dtstart.isoformat(), e.dtend.isoformat())
        for e in calendar.events
    ]
    return Parsed("ical", events)


def parse_with_icaljs(data: bytes) -> Parsed:
    node = shutil.which("node")
    assert node, "node is needed to run ical.js"
    assert (ICALJS / "node_modules" / "ical.js").exists(), "run `make test` to install ical.js"
    result = subprocess.run(
        [node, str(ICALJS / "check.mjs")], input=data, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    read = json.loads(result.stdout)
    events = [(e["uid"], e["summary"], _iso(e["start"]), _iso(e["end"])) for e in read["events"]]
    return Parsed("ical.js", events)


def _iso(day: str) -> str:
    """ical.js reads year 0001 right but prints it unpadded ("1-01-01"): pad it to compare."""
    year, _, rest = day.partition("-")
    return f"{year.zfill(4)}-{rest}"


def parse_with_icalendar(data: bytes) -> Parsed:
    calendar = icalendar.Calendar.from_ical(data)
    events = [
        (
            str(e["UID"]),
            str(e["SUMMARY"]),
            e.decoded("DTSTART").isoformat(),
            e.decoded("DTEND").isoformat(),
        )
        for e in calendar.walk("VEVENT")
    ]
    return Parsed("icalendar", events)


PARSERS = (parse_with_vobject, parse_with_ical, parse_with_icaljs, parse_with_icalendar)


def read_everywhere(data: bytes) -> list[tuple[str, str, str, str]]:
    """Checks the feed and parses it with every parser; they must all read the same."""
    check_feed(data)
    readings = [parse(data) for parse in PARSERS]
    first = readings[0]
    for other in readings[1:]:
        assert other.events == first.events, f"{other.parser} reads differently from {first.parser}"
    return first.events
