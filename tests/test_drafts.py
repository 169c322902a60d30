"""Drafts from `timeline extract`: what the text does not give is written TODO, and
`timeline seed` refuses a file that still holds one, naming the field, until an editor
has written it (README, "From the command line")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from seeds.loader import SeedError, read_facts
from service.cli import main

STATEMENT = (
    "АСТАНА, 16 ноября.\n\n"
    "Пятый саммит «Центральная Азия – Китай» пройдет в Астане 3 июня 2026 года.\n"
)
FACT_ID = "fifth-central-asia-china-summit-in-astana-2026"


def invoke(args: list[str], url: str) -> Result:
    return CliRunner().invoke(main, args, env={"TIMELINE_DATABASE_URL": url})


def test_a_draft_is_refused_naming_its_todo_until_it_is_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'timeline.db'}"
    assert invoke(["db", "upgrade"], url).exit_code == 0
    statement = tmp_path / "statement.txt"
    statement.write_text(STATEMENT, encoding="utf-8")
    extracted = invoke(["extract", str(statement), "--date", "2025-11-16", "--lang", "ru"], url)
    assert extracted.exit_code == 0, extracted.output
    draft = tmp_path / "new.yaml"
    draft.write_text(extracted.stdout, encoding="utf-8")
    assert "'TODO: summary (en)'" in extracted.stdout  # a Russian text gives no English summary

    refused = invoke(["seed", str(draft)], url)
    assert refused.exit_code == 1
    assert f"new.yaml: fact {FACT_ID!r}: summary.en: still TODO" in refused.stderr
    assert "Traceback" not in refused.output
    exported = invoke(["export", str(tmp_path / "log.jsonl")], url)
    assert exported.exit_code == 0 and (tmp_path / "log.jsonl").read_text() == ""

    written = extracted.stdout.replace("'TODO: summary (en)'", "The fifth summit, in Astana.")
    draft.write_text(written, encoding="utf-8")
    loaded = invoke(["seed", str(draft)], url)
    assert loaded.exit_code == 0, loaded.output
    (fact,) = read_facts(draft)
    assert fact.id == FACT_ID and fact.summary["en"] == "The fifth summit, in Astana."


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('"id": "TODO-p3"', "id"),
        ('"kind": "TODO"', "kind"),
        ('"title": {"en": "TODO: title (en)", "ru": "Саммит"}', "title.en"),
        ('"sources": [{"title": "T", "date": "2025-11-16", "note": "TODO"}]', "sources[0].note"),
    ],
)
def test_a_jsonl_fact_with_a_todo_is_refused_naming_the_field(
    tmp_path: Path, line: str, field: str
) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text(_fact_line(line) + "\n", encoding="utf-8")
    with pytest.raises(SeedError, match=rf"facts.jsonl: fact .*: {re.escape(field)}: still TODO"):
        read_facts(path)


def test_todo_inside_a_text_is_not_a_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    title = '"title": {"en": "The TODO list of the summit", "ru": "Саммит"}'
    path.write_text(_fact_line(title) + "\n", encoding="utf-8")
    (fact,) = read_facts(path)
    assert fact.title["en"] == "The TODO list of the summit"


def _fact_line(replacing: str) -> str:
    fields = {
        "id": '"id": "summit-2026"',
        "title": '"title": {"en": "Summit", "ru": "Саммит"}',
        "summary": '"summary": {"en": "A summit.", "ru": "Саммит."}',
        "kind": '"kind": "summit"',
        "status": '"status": "planned"',
        "date": '"date": {"edtf": "2026-06-03"}',
        "sources": '"sources": []',
    }
    name = replacing.split('"')[1]
    fields[name] = replacing
    return "{" + ", ".join(fields.values()) + "}"
