"""Benchmark: loading a 100,000-fact JSON Lines seed file, against a raw sqlite3 floor.

OURS      `seeds.loader.load` on a fresh, migrated SQLite file: parse, validate, decide,
          encode, hash and insert, all in one transaction (timed the way the `timeline
          seed` command runs it: one `asyncio.run` that opens the engine, loads, disposes).
REFERENCE the same file's lines inserted by plain `sqlite3.executemany` into
          `raw(id TEXT PRIMARY KEY, data TEXT)` in one transaction, on a SQLite file with
          the same pragmas as events/db.py (journal_mode=WAL, synchronous=NORMAL); timed
          from opening the file, including reading the lines and `json.loads` of each
          line to take its id.
RELOAD    loading the same file again into the seeded database: the idempotent path,
          which must append nothing.

Both sides run ROUNDS times, alternating; the medians are compared. Correctness (head and
hash chain) is checked after each of our loads, outside the timing.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

N_FACTS = 100_000
ROUNDS = 2
GOAL_RATIO = 0.10
GOAL_RATE_HINT = "about 15k facts/s here"
SEED = 20250530

# --- generating the facts ------------------------------------------------------------------

_KINDS = [
    "summit", "meeting", "conference", "treaty", "agreement", "roundtable", "initiative",
    "programme", "document", "visit", "forum", "election", "other",
]  # fmt: skip
_STATUSES = ["held", "held", "held", "planned", "proposed", "postponed", "cancelled"]
_PARTICIPANTS = [
    "KZ", "KG", "TJ", "TM", "UZ", "AF", "AZ", "AM", "GE", "RU", "CN", "IN", "PK", "IR",
    "TR", "DE", "FR", "IT", "GB", "US", "JP", "KR", "AE", "SA", "QA", "MN",
    "EU", "UN", "CIS", "SCO", "CSTO", "EAEU", "OSCE", "OTS", "CICA", "ECO", "EBRD", "ADB",
    "WB", "IMF", "IFAS",
]  # fmt: skip
_TAGS = [
    "central-asia", "central-asia-eu", "water", "energy", "transport", "trade", "security",
    "border", "climate", "aral-sea", "digital", "education", "health", "customs", "rail",
    "green-hydrogen", "critical-raw-materials", "migration", "tourism", "agriculture",
    "finance", "c5-plus-1", "middle-corridor", "caspian", "investment",
]  # fmt: skip
# (English name, Russian name, country)
_PLACES = [
    ("Astana", "Астана", "KZ"), ("Almaty", "Алматы", "KZ"), ("Bishkek", "Бишкек", "KG"),
    ("Cholpon-Ata", "Чолпон-Ата", "KG"), ("Dushanbe", "Душанбе", "TJ"),
    ("Ashgabat", "Ашхабад", "TM"), ("Tashkent", "Ташкент", "UZ"),
    ("Samarkand", "Самарканд", "UZ"), ("Khiva", "Хива", "UZ"), ("Brussels", "Брюссель", "BE"),
    ("Rome", "Рим", "IT"), ("Berlin", "Берлин", "DE"), ("Baku", "Баку", "AZ"),
    ("Beijing", "Пекин", "CN"), ("Moscow", "Москва", "RU"), ("Ankara", "Анкара", "TR"),
    ("New York", "Нью-Йорк", "US"), ("Tokyo", "Токио", "JP"),
]  # fmt: skip
# (English, Russian genitive) of what a fact is about
_TOPICS = [
    ("water and energy cooperation", "сотрудничества в сфере воды и энергетики"),
    ("transport connectivity", "транспортной связанности"),
    ("regional security", "региональной безопасности"),
    ("trade and investment", "торговли и инвестиций"),
    ("the delimitation of state borders", "делимитации государственных границ"),
    ("the Trans-Caspian transport route", "Транскаспийского транспортного маршрута"),
    ("climate adaptation and the Aral Sea", "адаптации к изменению климата и Аральского моря"),
    ("critical raw materials", "критически важного сырья"),
    ("digital connectivity", "цифровой связанности"),
    ("education and youth exchanges", "образования и молодёжных обменов"),
    ("customs and border crossings", "таможни и пунктов пропуска"),
    ("green hydrogen", "зелёного водорода"),
]
_KIND_NAMES = {
    "summit": ("Summit", "Саммит"), "meeting": ("Meeting", "Встреча"),
    "conference": ("Conference", "Конференция"), "treaty": ("Treaty", "Договор"),
    "agreement": ("Agreement", "Соглашение"), "roundtable": ("Round table", "Круглый стол"),
    "initiative": ("Initiative", "Инициатива"), "programme": ("Programme", "Программа"),
    "document": ("Joint statement", "Совместное заявление"), "visit": ("Visit", "Визит"),
    "forum": ("Forum", "Форум"), "election": ("Elections", "Выборы"),
    "other": ("Event", "Событие"),
}  # fmt: skip
_EN_SENTENCES = [
    "Delegations of {who} discussed {topic} and agreed on a working plan for the next two years.",
    "The parties signed a memorandum on {topic} and instructed their ministries to draft a "
    "roadmap.",
    "Ministers reviewed progress on {topic}, noted delays in financing and set up an expert group.",
    "The meeting in {place} ended with a joint declaration on {topic}.",
    "Experts presented a report on {topic}; the next session is to be held in {place}.",
]
_RU_SENTENCES = [
    "Делегации {who} обсудили вопросы {topic} и согласовали план работы на ближайшие два года.",
    "Стороны подписали меморандум по вопросам {topic} и поручили министерствам подготовить "
    "дорожную карту.",
    "Министры рассмотрели ход работы в сфере {topic}, отметили задержки с финансированием и "
    "создали экспертную группу.",
    "Встреча в городе {place} завершилась принятием совместной декларации по вопросам {topic}.",
    "Эксперты представили доклад по вопросам {topic}; следующая сессия пройдёт в городе {place}.",
]
_DATE_FORMS = ["day", "day-range", "month", "season", "year", "by", "until", "from", "after"]


def _date(rng: random.Random) -> str:
    """One EDTF date, spread across every form the timeline uses."""
    form = rng.choice(_DATE_FORMS)
    year = rng.randint(1992, 2035)
    month = rng.randint(1, 12)
    day = rng.randint(1, 25)
    if form == "day":
        return f"{year:04d}-{month:02d}-{day:02d}"
    if form == "day-range":
        return (
            f"{year:04d}-{month:02d}-{day:02d}/{year:04d}-{month:02d}-{day + rng.randint(1, 3):02d}"
        )
    if form == "month":
        return f"{year:04d}-{month:02d}"
    if form == "season":
        return f"{year:04d}-{rng.randint(21, 24)}"
    if form == "year":
        return f"{year:04d}"
    if form == "by":
        return f"[..{year:04d}]"
    if form == "until":
        return f"../{year:04d}"
    if form == "from":
        return f"{year:04d}-{month:02d}/.."
    return f"[{year:04d}..]"


def _fact(rng: random.Random, number: int) -> dict[str, Any]:
    kind = rng.choice(_KINDS)
    participants = rng.sample(_PARTICIPANTS, rng.randint(1, 6))
    place_en, place_ru, country = rng.choice(_PLACES)
    topic_en, topic_ru = rng.choice(_TOPICS)
    kind_en, kind_ru = _KIND_NAMES[kind]
    who = ", ".join(participants)
    title_en = f"{kind_en} on {topic_en} in {place_en} (no. {number})"
    title_ru = f"{kind_ru} по вопросам {topic_ru}, {place_ru} (№ {number})"
    # Sentences up to a target length: about 100–300 characters in each language.
    order = rng.sample(range(len(_EN_SENTENCES)), len(_EN_SENTENCES))
    wanted = rng.randint(100, 200)
    en_fields = {"who": who, "place": place_en, "topic": topic_en}
    ru_fields = {"who": who, "place": place_ru, "topic": topic_ru}
    en_parts: list[str] = []
    ru_parts: list[str] = []
    for i in order:
        en_parts.append(_EN_SENTENCES[i].format(**en_fields))
        ru_parts.append(_RU_SENTENCES[i].format(**ru_fields))
        if sum(len(p) + 1 for p in en_parts) >= wanted:
            break
    summary_en, summary_ru = " ".join(en_parts), " ".join(ru_parts)
    fact: dict[str, Any] = {
        "id": f"bench-fact-{number:06d}",
        "title": {"en": title_en, "ru": title_ru},
        "summary": {"en": summary_en, "ru": summary_ru},
        "kind": kind,
        "status": rng.choice(_STATUSES),
        "date": {"edtf": _date(rng)},
        "participants": participants,
        "tags": rng.sample(_TAGS, rng.randint(0, 4)),
        "sources": [
            {
                "title": f"Joint statement of {who}",
                "date": f"{rng.randint(1992, 2025):04d}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "locator": f"paragraph {rng.randint(1, 40)}",
            }
        ],
    }
    if rng.random() < 0.8:
        fact["place"] = {"name": {"en": place_en, "ru": place_ru}, "country": country}
    if rng.random() < 0.3:
        fact["sources"].append(
            {
                "title": "Press release",
                "date": "2025-05-30",
                "url": f"https://example.org/press/{number}",
                "note": "summary of the talks",
            }
        )
    return fact


def write_facts(path: Path, count: int = N_FACTS) -> None:
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8") as out:
        for number in range(1, count + 1):
            out.write(json.dumps(_fact(rng, number), ensure_ascii=False))
            out.write("\n")


# --- the two sides -------------------------------------------------------------------------


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def run_ours(path: Path, db: Path) -> float:
    """Load `path` into the database at `db` as `timeline seed` does; return seconds."""
    from events.db import create_engine
    from events.store import EventStore
    from seeds import loader

    async def load() -> None:
        engine = create_engine(_url(db))
        try:
            await loader.load(EventStore(engine), [path])
        finally:
            await engine.dispose()

    start = time.perf_counter()
    asyncio.run(load())
    return time.perf_counter() - start


def check_ours(db: Path) -> tuple[int, object]:
    """(head, first event that breaks the chain or None), outside any timing."""
    from events.db import create_engine
    from events.store import EventStore

    async def check() -> tuple[int, object]:
        engine = create_engine(_url(db))
        try:
            store = EventStore(engine)
            return await store.head(), await store.verify()
        finally:
            await engine.dispose()

    return asyncio.run(check())


def run_reference(path: Path, db: Path) -> float:
    """Raw sqlite3: read the lines, json.loads each for its id, executemany in one transaction."""
    start = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE raw(id TEXT PRIMARY KEY, data TEXT)")
        with path.open(encoding="utf-8") as lines:
            rows = [(json.loads(line)["id"], line) for line in lines if line.strip()]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO raw VALUES (?, ?)", rows)
        conn.execute("COMMIT")
    finally:
        conn.close()
    elapsed = time.perf_counter() - start
    check = sqlite3.connect(db)
    try:
        (count,) = check.execute("SELECT count(*) FROM raw").fetchone()
    finally:
        check.close()
    if count != N_FACTS:
        raise RuntimeError(f"reference inserted {count} rows, not {N_FACTS}")
    return elapsed


# --- running -------------------------------------------------------------------------------


def _rate(seconds: float) -> float:
    return N_FACTS / seconds


def _row(name: str, seconds: float, extra: str = "") -> str:
    return f"{name:<34} {seconds:>8.2f}s {_rate(seconds):>12,.0f} {extra}".rstrip()


def main() -> None:
    from service import migrate

    with tempfile.TemporaryDirectory(prefix="bench-seed-") as tmp:
        folder = Path(tmp)
        path = folder / "bench-facts.jsonl"
        started = time.perf_counter()
        write_facts(path)
        size_mb = path.stat().st_size / 1e6
        print(
            f"generated {N_FACTS:,} facts ({size_mb:.1f} MB JSON Lines) "
            f"in {time.perf_counter() - started:.1f}s"
        )

        ours: list[float] = []
        reference: list[float] = []
        reloads: list[float] = []
        checks: list[str] = []
        for round_ in range(1, ROUNDS + 1):
            ref_db = folder / f"reference-{round_}.db"
            reference.append(run_reference(path, ref_db))

            db = folder / f"ours-{round_}.db"
            migrate.upgrade(_url(db))
            ours.append(run_ours(path, db))
            head, broken = check_ours(db)
            checks.append(f"round {round_}: head={head} verify={broken}")
            if head != N_FACTS or broken is not None:
                raise RuntimeError(f"our load is wrong: head={head}, verify() -> {broken!r}")

            reloads.append(run_ours(path, db))
            head_after, _ = check_ours(db)
            if head_after != N_FACTS:
                raise RuntimeError(f"reload appended {head_after - N_FACTS} events")
            print(
                f"round {round_}: reference {reference[-1]:.2f}s, ours {ours[-1]:.2f}s, "
                f"reload {reloads[-1]:.2f}s",
                flush=True,
            )

        ref_s = statistics.median(reference)
        ours_s = statistics.median(ours)
        reload_s = statistics.median(reloads)
        ratio = _rate(ours_s) / _rate(ref_s)
        verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
        print()
        print(f"{'':<34} {'median':>9} {'facts/s':>12}")
        print(_row("reference (sqlite3 executemany)", ref_s))
        print(_row("ours (loader.load, fresh db)", ours_s, f"{ratio:.3f}x of reference"))
        print(
            _row(
                "ours, reload (idempotent, +0)", reload_s, f"{reload_s / ours_s:.2f}x the load time"
            )
        )
        print(
            f"goal: ours >= {GOAL_RATIO:.2f}x reference ({GOAL_RATE_HINT}): "
            f"{ratio:.3f}x -> {verdict} "
            f"[{GOAL_RATIO:.2f}x of this run's reference = {GOAL_RATIO * _rate(ref_s):,.0f} facts/s; "
            f"ours {_rate(ours_s):,.0f} facts/s]"
        )
        print(
            f"correct: head == {N_FACTS} and verify() is None after each load "
            f"({'; '.join(checks)}); reload appended 0 events"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
