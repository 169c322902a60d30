"""Editors' sessions: a signed cookie per editor, and its CSRF token.

Sessions are a signed cookie (HMAC-SHA256, TIMELINE_SESSION_SECRET) rather than a table:
nothing to migrate or expire in the database, and a revoked token still ends its session
at once, because each request checks that the token it was opened with still exists.
Unset, the secret is random per process (sessions end on restart; said in the log).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import Cookie, State
from litestar.di import Provide

from service.tokens import stored_hash

log = logging.getLogger("timeline.workspace")

COOKIE = "timeline_edit"
SESSION_SECONDS = 12 * 3600  # a working day; then sign in again
ANONYMOUS_SECONDS = 3600  # the sign-in form's own session, for its CSRF token

# --- sessions ---------------------------------------------------------------------------


class Session(msgspec.Struct, array_like=True):
    nonce: str  # random per session: the form token is derived from it
    expires: int  # Unix seconds
    actor: str | None = None  # None: not signed in (the sign-in form's session)
    token: str | None = None  # a keyed digest of the token's stored hash


class SignInRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


def secret_of(state: State) -> bytes:
    configured = state.settings.session_secret
    if configured:
        return configured.encode()
    if "session_secret" not in state:
        log.warning(
            "TIMELINE_SESSION_SECRET is unset: workspace sessions are signed with a random "
            "secret of this process and end when it restarts"
        )
        state.session_secret = secrets.token_bytes(32)
    return state.session_secret


def _sign(secret: bytes, purpose: str, value: bytes) -> str:
    mac = hmac.new(secret, purpose.encode() + b"\0" + value, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def encode_session(secret: bytes, session: Session) -> str:
    payload = base64.urlsafe_b64encode(msgspec.json.encode(session)).decode().rstrip("=")
    return f"{payload}.{_sign(secret, 'session', payload.encode())}"


def decode_session(secret: bytes, value: str) -> Session | None:
    payload, _, mac = value.partition(".")
    if not mac or not hmac.compare_digest(mac, _sign(secret, "session", payload.encode())):
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        session = msgspec.json.decode(raw, type=Session)
    except (ValueError, msgspec.DecodeError):
        return None
    return session if session.expires > time.time() else None


def csrf_token(secret: bytes, session: Session) -> str:
    return _sign(secret, "csrf", session.nonce.encode())


def session_cookie(request: Request, value: str, max_age: int) -> Cookie:
    secure = request.url.scheme == "https" or request.app.state.settings.base_url.startswith(
        "https:"
    )
    return Cookie(
        key=COOKIE,
        value=value,
        max_age=max_age,
        path="/edit",
        httponly=True,
        secure=secure,
        samesite="strict",
    )


async def token_fingerprint(request: Request, actor: str) -> str | None:
    """A keyed digest of the actor's stored token hash; None when the token is gone."""
    stored = await request.app.state.database.run(stored_hash, actor)
    return None if stored is None else _sign(secret_of(request.app.state), "token", stored.encode())


def current_session(request: Request) -> Session | None:
    value = request.cookies.get(COOKIE)
    return decode_session(secret_of(request.app.state), value) if value else None


async def editor(request: Request) -> Session:
    """Dependency of every page but sign-in: the signed-in session, whose token still exists."""
    session = current_session(request)
    if session is None or session.actor is None or session.token is None:
        raise SignInRequired
    fingerprint = await token_fingerprint(request, session.actor)
    if fingerprint is None or not hmac.compare_digest(fingerprint, session.token):
        raise SignInRequired  # the token was revoked or replaced: the session ends with it
    return session


EDITOR = {"session": Provide(editor)}


async def form_of(request: Request, session: Session | None) -> dict[str, Any]:
    """The posted form, once its CSRF token is checked (constant time); else 403."""
    form = await request.form()
    sent = form.get("csrf")
    if (
        session is None
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent, csrf_token(secret_of(request.app.state), session))
    ):
        raise CsrfRefused
    return {key: form.getall(key) if key == "file" else form.get(key) for key in form}
