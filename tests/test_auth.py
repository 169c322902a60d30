"""Write tokens: the `timeline token` commands, and the limiter on failed attempts."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from service.http.auth import FailureLimiter
from tests.api_client import Api, assert_problem
from tests.factories import fact_data
from tests.served import ROOT, Served


def timeline(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        env={**os.environ, "TIMELINE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def post(base: str, token: str, fact_id: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/facts",
        json=fact_data(fact_id),
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=15,
    )


# --- timeline token create / list / revoke ----------------------------------------------


def test_a_second_token_with_a_name_fails_loudly_and_prints_no_token(database_url: str):
    first = timeline(database_url, "token", "create", "alice")
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) >= 43 and "\n" not in first.stdout.strip()

    again = timeline(database_url, "token", "create", "alice")
    assert again.returncode != 0
    assert again.stdout == ""  # so `TOKEN=$(timeline token create alice)` captures nothing
    assert "already exists" in again.stderr and "token revoke alice" in again.stderr


def test_tokens_are_listed_without_their_secrets_and_revoked(database_url: str, tmp_path):
    alice = timeline(database_url, "token", "create", "alice").stdout.strip()
    bob = timeline(database_url, "token", "create", "bob").stdout.strip()
    service = Served(database_url, tmp_path / "server.log").start()
    try:
        assert post(service.base, alice, "by-alice").status_code == 201
        listed = timeline(database_url, "token", "list")
        assert listed.returncode == 0, listed.stderr
        header, alice_row, bob_row = listed.stdout.splitlines()
        assert header.split() == ["NAME", "CREATED", "LAST", "USED"]
        assert alice_row.split()[0] == "alice" and alice_row.split()[2] != "never"
        assert bob_row.split()[0] == "bob" and bob_row.split()[2] == "never"
        assert alice not in listed.stdout + listed.stderr
        assert bob not in listed.stdout + listed.stderr

        revoked = timeline(database_url, "token", "revoke", "alice")
        assert revoked.returncode == 0, revoked.stderr
        assert_problem(post(service.base, alice, "after-revoke"), 401)
        assert post(service.base, bob, "by-bob").status_code == 201
        assert [
            line.split()[0] for line in timeline(database_url, "token", "list").stdout.splitlines()
        ] == ["NAME", "bob"]
    finally:
        service.stop()

    missing = timeline(database_url, "token", "revoke", "alice")
    assert missing.returncode != 0 and missing.stdout == ""
    assert "no token named 'alice'" in missing.stderr
    # The name is free again.
    assert timeline(database_url, "token", "create", "alice").returncode == 0


# --- the failure limiter ----------------------------------------------------------------


def test_a_correct_token_is_accepted_from_a_client_over_the_failure_limit(api: Api):
    wrong = {"Authorization": "Bearer guess"}
    for _ in range(10):
        assert_problem(api.client.post("/api/v1/facts", json=fact_data("x"), headers=wrong), 401)
    assert_problem(api.client.post("/api/v1/facts", json=fact_data("x"), headers=wrong), 429)
    # The same client (an editor behind the attacker's proxy) with the right token:
    accepted = api.client.post("/api/v1/facts", json=fact_data("editor"), headers=api.auth())
    assert accepted.status_code == 201, accepted.text
    # and the guesser is still refused.
    assert_problem(api.client.post("/api/v1/facts", json=fact_data("x"), headers=wrong), 429)


def test_the_limiter_forgets_quiet_clients_and_remembers_a_bounded_number():
    limiter = FailureLimiter(limit=2, window=0.05, max_clients=100)
    for i in range(1000):
        limiter.fail(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter.failures) == 100  # the 100 most recent
    assert "10.0.3.231" in limiter.failures and "10.0.0.0" not in limiter.failures

    limiter = FailureLimiter(limit=2, window=0.05)
    for i in range(50):
        limiter.fail(f"10.1.0.{i}")
    limiter.fail("10.1.0.0")
    assert limiter.retry_after("10.1.0.0") is not None
    time.sleep(0.2)
    limiter.fail("192.0.2.1")  # any later activity sweeps the expired clients out
    assert list(limiter.failures) == ["192.0.2.1"]
    assert limiter.retry_after("10.1.0.0") is None


# --- forwarded addresses ----------------------------------------------------------------


def _wrong_tokens_from_forged_addresses(base: str, count: int) -> list[int]:
    return [
        post(base, "guess", "x", **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
        for i in range(count)
    ]


def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(database_url: str, tmp_path):
    service = Served(database_url, tmp_path / "server.log").start()
    try:
        statuses = _wrong_tokens_from_forged_addresses(service.base, 12)
    finally:
        service.stop()
    # Every attempt came from 127.0.0.1, whatever the header claimed.
    assert statuses == [401] * 10 + [429] * 2


def test_a_trusted_proxys_forwarded_address_is_the_client(database_url: str, tmp_path):
    token = timeline(database_url, "token", "create", "editor").stdout.strip()
    env = {"TIMELINE_TRUSTED_PROXIES": "127.0.0.1"}
    service = Served(database_url, tmp_path / "server.log", env=env).start()
    try:
        attacker = {"X-Forwarded-For": "198.51.100.7"}
        statuses = [post(service.base, "guess", "x", **attacker).status_code for _ in range(11)]
        assert statuses == [401] * 10 + [429]
        editor = {"X-Forwarded-For": "198.51.100.8"}
        assert post(service.base, "guess", "x", **editor).status_code == 401  # not limited
        assert post(service.base, token, "via-proxy", **editor).status_code == 201
    finally:
        service.stop()
