"""Load source facts from data files into the log, through the same rules as the write API.

Two formats:
- YAML (`*.yaml`, one file per source document): a `document` header (title, date) and a
  list of `facts`; each fact's sources name only their locator (and a note), and take the
  document's title and date from the header.
- JSON Lines (`*.jsonl`): one fact per line, exactly as the write API accepts it.

A file is all or nothing: every fact is validated first, then all of its events are
appended in one transaction. Loading is idempotent: a fact already in the log as the file
describes it appends nothing; an edited fact appends the events that describe the edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import yaml

from events.decider import (
    DomainError,
    RecordFact,
    change_to_match,
    decide,
    fold,
    stream_id,
)
from events.facts import Fact, FactError, validate_fact
from events.store import Append, EventStore

SEED_DIR = Path(__file__).resolve().parent
ACTOR = "seed"


class SeedError(ValueError):
    """A seed file that cannot be loaded; the message names the file, fact and field."""


class SeedReport(msgspec.Struct):
    files: int = 0
    facts: int = 0
    recorded: int = 0
    changed: int = 0
    events: int = 0


class _Document(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    date: dt.date
    note: str | None = None
    url: str | None = None


def default_paths() -> list[Path]:
    return sorted(SEED_DIR.glob("*.yaml"))


def _where(path: Path, index: int, fact_id: object) -> str:
    name = f"fact {fact_id!r}" if isinstance(fact_id, str) else f"fact #{index + 1}"
    return f"{path.name}: {name}"


def _convert(path: Path, index: int, raw: Any) -> Fact:
    fact_id = raw.get("id") if isinstance(raw, dict) else None
    try:
        fact = msgspec.convert(raw, Fact)
    except msgspec.ValidationError as exc:
        # msgspec says "... - at `$.date.edtf`"; present that as a field name.
        message, _, at = str(exc).partition(" - at `$")
        field = at.rstrip("`").lstrip(".") or "fact"
        raise SeedError(f"{_where(path, index, fact_id)}: {field}: {message}") from None
    try:
        validate_fact(fact)
    except FactError as exc:
        raise SeedError(f"{_where(path, index, fact_id)}: {exc.field}: {exc.message}") from None
    return fact


def _read_yaml(path: Path) -> list[Fact]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(content, dict) or not isinstance(content.get("facts"), list):
        raise SeedError(f"{path.name}: expected a mapping with `document` and a list `facts`")
    try:
        document = msgspec.convert(content.get("document"), _Document)
    except msgspec.ValidationError as exc:
        raise SeedError(f"{path.name}: document: {exc}") from None
    facts = []
    for index, raw in enumerate(content["facts"]):
        if isinstance(raw, dict):
            raw = {**raw, "sources": [_with_document(s, document) for s in raw.get("sources", [])]}
        facts.append(_convert(path, index, raw))
    return facts


def _with_document(source: Any, document: _Document) -> Any:
    if not isinstance(source, dict):
        return source
    defaults = {"title": document.title, "date": document.date}
    if document.url:
        defaults["url"] = document.url
    return {**defaults, **source}


_line_decoder = msgspec.json.Decoder()


def _read_jsonl(path: Path) -> list[Fact]:
    facts = []
    with path.open("rb") as lines:
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                raw = _line_decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise SeedError(f"{path.name}: line {number + 1}: not valid JSON: {exc}") from None
            facts.append(_convert(path, number, raw))
    return facts


def read_facts(path: Path) -> list[Fact]:
    """Parse and validate one file; raise SeedError on the first problem."""
    if path.suffix == ".jsonl":
        facts = _read_jsonl(path)
    elif path.suffix in (".yaml", ".yml"):
        facts = _read_yaml(path)
    else:
        raise SeedError(f"{path.name}: unknown format (use .yaml or .jsonl)")
    seen: set[str] = set()
    for fact in facts:
        if fact.id in seen:
            raise SeedError(f"{path.name}: fact {fact.id!r}: id: appears twice in the file")
        seen.add(fact.id)
    return facts


async def plan(store: EventStore, facts: Sequence[Fact], where: str) -> list[Append]:
    """What to append so the log describes `facts`: new facts recorded, edits as events."""
    streams = await store.read_streams([stream_id(f.id) for f in facts])
    appends = []
    for fact in facts:
        recorded = streams.get(stream_id(fact.id), [])
        state = fold(r.event() for r in recorded)
        command = RecordFact(fact) if state is None else change_to_match(fact)
        try:
            new_events = decide(command, state)
        except (DomainError, FactError) as exc:
            raise SeedError(f"{where}: fact {fact.id!r}: {exc}") from None
        if new_events:
            version = recorded[-1].version if recorded else 0
            appends.append(Append(stream_id(fact.id), new_events, version))
    return appends


async def load(store: EventStore, paths: Iterable[Path]) -> SeedReport:
    """Validate every file first, then append each file whole (or not at all)."""
    report = await load_if_empty(store, paths, if_empty=False)
    assert report is not None
    return report


async def load_if_empty(
    store: EventStore, paths: Iterable[Path], *, if_empty: bool = True
) -> SeedReport | None:
    """`load`, or nothing (None) when `if_empty` and any fact of the files is stored."""
    files = [(path, read_facts(path)) for path in paths]
    if if_empty:
        ids = [stream_id(f.id) for _, facts in files for f in facts]
        if await store.read_streams(ids):
            return None
    report = SeedReport()
    for path, facts in files:
        appends = await plan(store, facts, path.name)
        if appends:
            await store.append_many(appends, actor=ACTOR, reason=f"seed file {path.name}")
        report.files += 1
        report.facts += len(facts)
        report.recorded += sum(1 for a in appends if a.expected_version == 0)
        report.changed += sum(1 for a in appends if a.expected_version)
        report.events += sum(len(a.events) for a in appends)
    return report
