"""The log as JSON Lines: export, and import into a database whose log it continues.

Each line is one stored event with its position, instant and hash; `data` is embedded as
the exact JSON the store holds (msgspec.Raw), so export -> import -> export is
byte-identical and the hash chain still verifies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import msgspec

from events.store import EventStore, RecordedEvent


class ExportedEvent(msgspec.Struct, kw_only=True):
    position: int
    stream_id: str
    version: int
    type: str
    data: msgspec.Raw
    actor: str
    reason: str | None
    recorded_at: str
    hash: str


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ExportedEvent)


def export_line(event: RecordedEvent) -> bytes:
    fields = msgspec.structs.asdict(event)
    fields["data"] = msgspec.Raw(event.data.encode())
    return _encoder.encode(ExportedEvent(**fields)) + b"\n"


async def export_to(store: EventStore, out: IO[bytes]) -> int:
    count = 0
    async for event in store.iterate():
        out.write(export_line(event))
        count += 1
    return count


async def export_file(store: EventStore, path: Path) -> int:
    """Write the whole log to `path` atomically: a temporary file, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as out:
        count = await export_to(store, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return count


class TransferError(ValueError):
    pass


def read_lines(lines: Iterator[bytes]) -> Iterator[RecordedEvent]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            exported = _decoder.decode(line)
        except msgspec.DecodeError as exc:
            raise TransferError(f"line {number}: {exc}") from None
        fields = msgspec.structs.asdict(exported)
        fields["data"] = bytes(exported.data).decode()
        yield RecordedEvent(**fields)


async def import_file(store: EventStore, path: Path) -> int:
    """Append the file's events after the log's head; the whole file or nothing."""
    with path.open("rb") as source:
        events = list(read_lines(iter(source)))
    try:
        await store.import_events(events)
    except ValueError as exc:
        raise TransferError(str(exc)) from None
    return len(events)
