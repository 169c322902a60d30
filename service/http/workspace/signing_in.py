"""Signing in with a write token, and out."""

from __future__ import annotations

import secrets
import time
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from service.http.auth import FailureLimiter
from service.http.workspace.forms import form_text
from service.http.workspace.rendering import go_to, render_page
from service.http.workspace.sessions import (
    ANONYMOUS_SECONDS,
    SESSION_SECONDS,
    Session,
    current_session,
    encode_session,
    form_of,
    secret_of,
    session_cookie,
    token_fingerprint,
)
from service.tokens import actor_for

# --- sign in and out ----------------------------------------------------------------------


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(value: str | None) -> str:
    # Only a path of the workspace: never an open redirect elsewhere.
    if value and value.startswith("/edit") and "//" not in value and "\\" not in value:
        return value
    return "/edit"


@get("/sign-in", summary="The workspace's sign-in form", include_in_schema=False)
async def sign_in_form(request: Request, next: str | None = None) -> Template:
    session = current_session(request)
    cookies = []
    if session is None:
        session = Session(secrets.token_urlsafe(16), int(time.time()) + ANONYMOUS_SECONDS)
        cookies.append(
            session_cookie(
                request, encode_session(secret_of(request.app.state), session), ANONYMOUS_SECONDS
            )
        )
    return render_page(
        request,
        "sign_in.html.jinja2",
        session,
        {"next": _safe_next(next), "errors": {}},
        cookies=cookies,
    )


@post("/sign-in", summary="Sign in with a write token", include_in_schema=False, status_code=303)
async def sign_in(request: Request) -> Response[Any]:
    session = current_session(request)
    form = await form_of(request, session)
    assert session is not None
    next_path = _safe_next(form.get("next"))
    limiter: FailureLimiter = request.app.state.auth_limiter
    client = _client(request)
    wait = limiter.retry_after(client)
    if wait is not None:
        message = f"Too many failed sign-ins: wait {wait} seconds before trying again."
        context = {"next": next_path, "errors": {"token": message}}
        page = render_page(request, "sign_in.html.jinja2", session, context, status=429)
        page.headers["Retry-After"] = str(wait)
        return page
    token = form_text(form, "token")
    actor = await actor_for(request.app.state.database, token) if token else None
    if actor is None:
        limiter.fail(client)
        message = "This is not a valid token. Ask for one: timeline token create NAME."
        context = {"next": next_path, "errors": {"token": message}}
        return render_page(request, "sign_in.html.jinja2", session, context, status=401)
    fingerprint = await token_fingerprint(request, actor)
    # A new nonce: the session (and its form token) before signing in is not the one after.
    signed = Session(
        secrets.token_urlsafe(16), int(time.time()) + SESSION_SECONDS, actor, fingerprint
    )
    redirect = go_to(next_path, "signed-in")
    redirect.cookies.append(
        session_cookie(
            request, encode_session(secret_of(request.app.state), signed), SESSION_SECONDS
        )
    )
    return redirect


@post("/sign-out", summary="Sign out", include_in_schema=False, status_code=303)
async def sign_out(request: Request) -> Redirect:
    await form_of(request, current_session(request))
    redirect = go_to("/edit/sign-in", "signed-out")
    redirect.cookies.append(session_cookie(request, "", 0))
    return redirect
