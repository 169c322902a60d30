"""The widget's pure part (service/widget/model.js) and its words (strings.js), tested
under Node's own test runner (tests/widget/): here so that pytest, and `make test`, run
them with the rest."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from events.facts import LANGUAGES
from projections import vocabulary

ROOT = Path(__file__).resolve().parents[1]


def test_the_widget_model_tests_pass_under_node():
    node = shutil.which("node")
    assert node, "node is needed for the widget's model tests"
    done = subprocess.run(
        [node, "--test", "tests/widget/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout


def test_the_widget_says_what_the_vocabulary_says():
    """Its statuses, kinds and labels are the catalogue's (projections/vocabulary.py)."""
    script = (
        "const { load } = require('./tests/widget/parts.js');"
        "const { STRINGS } = load(['strings.js'], ['STRINGS']);"
        "process.stdout.write(JSON.stringify(STRINGS));"
    )
    done = subprocess.run(
        [shutil.which("node") or "node", "-e", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    widget = json.loads(done.stdout)
    assert set(widget) == set(LANGUAGES)
    for lang in LANGUAGES:
        expected = vocabulary.for_widget(lang)
        assert widget[lang]["status"] == expected["status"], lang
        # English kinds are shown as their codes, which are the catalogue's English words.
        shown_kinds = widget[lang]["kind"] or {kind: kind for kind in expected["kind"]}  # type: ignore[union-attr]
        assert shown_kinds == expected["kind"], lang
        for key in ("place", "participants", "sources", "ics"):
            assert widget[lang][key] == expected[key], (lang, key)
