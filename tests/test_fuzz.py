"""Schemathesis against the service's own OpenAPI description, on the real server.

Every operation, the authenticated writes included (with a test token), with valid and
invalid data: no 5xx, and every response matches the schema. A bounded run is part of
`make test` (TIMELINE_FUZZ_EXAMPLES per operation, default 25); `make fuzz` runs a long one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from service import migrate
from service.http.app import create_app
from service.settings import Settings
from tests.factories import seeded_with_token
from tests.served import Served

EXAMPLES = int(os.environ.get("TIMELINE_FUZZ_EXAMPLES", "25"))
# Not `negative_data_rejection`: in a query string every value is text, so its "invalid"
# values (tag=false for a string) are often valid ones, and it fails on them.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


class Fuzzed(NamedTuple):
    base: str
    token: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'timeline.db'}"
    migrate.upgrade(url)
    token = asyncio.run(seeded_with_token(url, "fuzzer"))
    service = Served(url, folder / "server.log").start()
    try:
        yield Fuzzed(service.base, token)
    finally:
        service.stop()
    errors = [line for line in service.log.read_text().splitlines() if "Traceback" in line]
    assert not errors, "the server logged a traceback while fuzzed"


def _schema() -> schemathesis.BaseSchema:
    # The description the served app publishes at /schema/openapi.json, made without a
    # database so that pytest can list one test per operation.
    app = create_app(Settings())
    loaded = schemathesis.openapi.from_dict(app.openapi_schema.to_schema())
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return loaded


schema = _schema()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("TIMELINE_FUZZ_RANDOM") != "1",
)
def test_no_operation_fails_or_breaks_its_schema(case: schemathesis.Case, served: Fuzzed) -> None:
    case.call_and_validate(
        base_url=served.base,
        headers={"Authorization": f"Bearer {served.token}"},
        checks=CHECKS,
        timeout=30,
    )
