"""Load source facts from data files into the log, through the same rules as the write API.

Two formats:
- YAML (`*.yaml`, one file per source document): a `document` header (title, date) and a
  list of `facts`; each fact's sources name only their locator (and a note), and take the
  document's title and date from the header.
- JSON Lines (`*.jsonl`): one fact per line, exactly as the write API accepts it.

A file is all or nothing: every fact is validated first, then all of its events are
appended in one transaction.

A seed file is one author among several: the scheduler marks plans elapsed, editors
change facts through the API. So a run appends only what changed *in the file* since
the fact was last loaded from it, on top of the fact as it is now, and never reverts
what others appended. Loading an unchanged file appends nothing, whatever others did.

That needs "what the file said last time", and the log is the only source of truth, so
it is read from the log, in this order:
1. the newest `SeedFileLoaded` record of the fact in the file's own stream
   (`seed-file-<file name>`), if there is one;
2. otherwise the fact as it stood right after the seed's own last event in its stream.
   A run of the old loader left every fact exactly as its file said, and so does a run
   of this one whenever nobody else had changed the fact: that is why logs written
   before records existed need no migration, and why most runs record nothing.
A run writes a record (in the same transaction as the facts' events) only for the facts
where (2) would be wrong: where the seed's events landed on top of someone else's
change, or appended nothing to a fact someone else made. A record lives in its file's
stream, so a fact moved to another file falls back to (2) there.

The file's change to a field is applied even if an editor changed that field too: the
file's author decided again, later, and the log keeps both decisions. A language map
changes only in the languages the file changed. A fact retracted in the log is left
alone while the file's fact is unchanged; a change to it in the file is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import yaml

from events.decider import (
    ChangeFact,
    Command,
    DomainError,
    RecordFact,
    change_to_match,
    decide,
    fold,
    stream_id,
)
from events.facts import Fact, FactError, validate_fact
from events.model import SeedFileLoaded
from events.store import Append, EventStore, RecordedEvent
from seeds.drafts import TODO, unfinished

SEED_DIR = Path(__file__).resolve().parent
ACTOR = "seed"
RECORD_STREAM_PREFIX = "seed-file-"
MAX_STREAM_ID = 200  # the events table's stream_id column


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


def _placeholder_at(raw: Any, at: str = "") -> str | None:
    """The field (`summary.en`, `sources[0].note`) where a draft's TODO is left, if any."""
    if isinstance(raw, str):
        return at if unfinished(raw) else None
    if isinstance(raw, dict):
        items = [(f"{at}.{key}" if at else str(key), value) for key, value in raw.items()]
    elif isinstance(raw, list):
        items = [(f"{at}[{number}]", value) for number, value in enumerate(raw)]
    else:
        return None
    for field, value in items:
        if (found := _placeholder_at(value, field)) is not None:
            return found
    return None


def _refuse_placeholders(path: Path, index: int, raw: Any) -> None:
    """SeedError naming the field if a draft's TODO is left in the fact. Called before its
    rules (a TODO kind would read as an unknown kind), and only for files that hold "TODO"
    at all, so that a bulk load does not walk every string of every fact."""
    if (field := _placeholder_at(raw)) is not None:
        fact_id = raw.get("id") if isinstance(raw, dict) else None
        message = f"still {TODO}: write what the document does not say, or leave the fact out"
        raise SeedError(f"{_where(path, index, fact_id)}: {field}: {message}")


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
        text = path.read_text(encoding="utf-8")
        content = yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(content, dict) or not isinstance(content.get("facts"), list):
        raise SeedError(f"{path.name}: expected a mapping with `document` and a list `facts`")
    try:
        document = msgspec.convert(content.get("document"), _Document)
    except msgspec.ValidationError as exc:
        raise SeedError(f"{path.name}: document: {exc}") from None
    facts = []
    drafted = TODO in text
    for index, raw in enumerate(content["facts"]):
        if drafted:
            _refuse_placeholders(path, index, raw)
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
_TODO_BYTES = TODO.encode()


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
            if _TODO_BYTES in line:
                _refuse_placeholders(path, number, raw)
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


def record_stream(path: Path) -> str:
    """The stream of `SeedFileLoaded` records of one seed file, named by its file name."""
    name = RECORD_STREAM_PREFIX + path.name
    if len(name) > MAX_STREAM_ID:
        raise SeedError(f"{path.name}: file name too long (at most {MAX_STREAM_ID - 10})")
    return name


def said_by_seed(recorded: Sequence[RecordedEvent]) -> Fact | None:
    """The fact as it stood right after the seed's last event in its stream (None if none)."""
    for index in range(len(recorded) - 1, -1, -1):
        if recorded[index].actor == ACTOR:
            state = fold(r.event() for r in recorded[: index + 1])
            return state.fact if state else None
    return None


def file_changes(then: Fact, now: Fact) -> ChangeFact | None:
    """The fields (and languages) the file changed between two loads; None if none."""
    fields: dict[str, object] = {}
    for name in ("title", "summary"):
        old, new = getattr(then, name), getattr(now, name)
        changed = {lang: text for lang, text in new.items() if old.get(lang) != text}
        if changed:
            fields[name] = changed
    for name in ("kind", "status", "date", "place", "participants", "tags", "sources"):
        if getattr(now, name) != getattr(then, name):
            fields[name] = getattr(now, name)
    return ChangeFact(**fields) if fields else None  # type: ignore[arg-type]


async def plan(store: EventStore, facts: Sequence[Fact], path: Path) -> list[Append]:
    """What to append for the file's changes since it was last loaded (module doc)."""
    records_id = record_stream(path)
    streams = await store.read_streams([records_id, *(stream_id(f.id) for f in facts)])
    records: dict[str, Fact] = {}
    for r in streams.get(records_id, []):
        event = r.event()
        assert isinstance(event, SeedFileLoaded)
        records.update((fact.id, fact) for fact in event.facts)
    appends: list[Append] = []
    to_record: list[Fact] = []
    for fact in facts:
        recorded = streams.get(stream_id(fact.id), [])
        state = fold(r.event() for r in recorded)
        if state is not None and recorded[-1].actor == ACTOR:
            by_seed: Fact | None = state.fact  # the usual case, without a second fold
        else:
            by_seed = said_by_seed(recorded)
        then = records.get(fact.id, by_seed)
        command: Command | None
        if state is None:
            command = RecordFact(fact)
        elif then is None:  # a fact someone else made, in the file for the first time
            command = change_to_match(fact)
        else:
            command = file_changes(then, fact)
        new_events = []
        if command is not None:
            try:
                new_events = decide(command, state)
            except (DomainError, FactError) as exc:
                raise SeedError(f"{path.name}: fact {fact.id!r}: {exc}") from None
        if new_events:
            version = recorded[-1].version if recorded else 0
            appends.append(Append(stream_id(fact.id), new_events, version))
            after = fold(new_events, state)
            by_seed = after.fact if after else None
        # What the next run will read as "what the file said", unless recorded now.
        if records.get(fact.id, by_seed) != fact:
            to_record.append(fact)
    if to_record:
        version = streams[records_id][-1].version if records_id in streams else 0
        record = SeedFileLoaded(file=path.name, facts=to_record)
        appends.append(Append(records_id, [record], version))
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
        appends = await plan(store, facts, path)
        if appends:
            await store.append_many(appends, actor=ACTOR, reason=f"seed file {path.name}")
        fact_appends = [a for a in appends if not a.stream_id.startswith(RECORD_STREAM_PREFIX)]
        report.files += 1
        report.facts += len(facts)
        report.recorded += sum(1 for a in fact_appends if a.expected_version == 0)
        report.changed += sum(1 for a in fact_appends if a.expected_version)
        report.events += sum(len(a.events) for a in appends)
    return report
