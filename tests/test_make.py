"""The Makefile installs what each target needs: serving gets the runtime packages only,
the tests the development toolchain; each install is redone only when pyproject.toml
changes. Checked with `make -n` (what make would run) against a virtualenv of the test's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_INSTALL = "pip install --quiet -e ."
DEV_INSTALL = "pip install --quiet -e '.[dev]'"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def would_run(venv: Path, *targets: str) -> list[str]:
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(ROOT), f"VENV={venv}", *targets],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    return done.stdout.splitlines()


def installs(lines: list[str]) -> list[str]:
    return [line for line in lines if "pip install" in line and "--upgrade pip" not in line]


def stamp(venv: Path, *names: str) -> None:
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "bin" / "python").touch()
    for name in names:
        (venv / name).touch()  # newer than pyproject.toml


def test_run_installs_only_what_serving_needs(tmp_path: Path):
    lines = would_run(tmp_path / "venv", "run")
    assert [line.endswith(RUNTIME_INSTALL) for line in installs(lines)] == [True]
    assert not any("[dev]" in line for line in lines)
    assert lines[-3:] == [
        f"{tmp_path}/venv/bin/timeline db upgrade",
        f"{tmp_path}/venv/bin/timeline seed --if-empty",
        f"{tmp_path}/venv/bin/timeline serve",
    ]


@pytest.mark.parametrize("target", ["test", "bench", "fuzz"])
def test_the_development_targets_install_the_toolchain(tmp_path: Path, target: str):
    lines = would_run(tmp_path / "venv", target)
    assert [line.endswith(DEV_INSTALL) for line in installs(lines)] == [True]


def test_run_after_test_installs_nothing_more(tmp_path: Path):
    venv = tmp_path / "venv"
    stamp(venv, ".runtime-stamp", ".dev-stamp")  # what `make test` leaves
    assert installs(would_run(venv, "run")) == []


def test_test_after_run_adds_the_toolchain(tmp_path: Path):
    venv = tmp_path / "venv"
    stamp(venv, ".runtime-stamp")  # what `make run` leaves
    assert [line.endswith(DEV_INSTALL) for line in installs(would_run(venv, "test"))] == [True]
    assert installs(would_run(venv, "run")) == []
