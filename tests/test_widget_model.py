"""The widget's pure part (service/widget/model.js) and its words (strings.js), tested
under Node's own test runner (tests/widget/): here so that pytest, and `make test`, run
them with the rest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
