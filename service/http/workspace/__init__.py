"""The editors' workspace at /edit: sign in once, review documents' proposals, edit facts.

Server-rendered HTML forms (POST, then redirect to a GET) calling the same functions the
API calls: documents.receive/accept/reject for the review, events.handler.handle for facts;
so every rule, error and event is the API's, and the session's actor (the token's name)
is the actor of every event, exactly as through the API. One small script of its own
(static/edit.js) adds the live date label and the evidence highlight; without it every
form still works.

Its rooms: sessions.py (the signed session cookie and CSRF), signing_in.py, words.py (the
workspace's own words), rendering.py (the page frame, notices), forms.py and history.py
(pure: a fact's fields as form inputs, and the differences between versions), review.py
(the queue and the documents), facts.py (the facts' pages); here, the script and styles,
errors as pages, and the router.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.response import Redirect

from events.dates import InvalidDate, parse_edtf
from service.http.problems import handle_exception
from service.http.workspace.facts import (
    change_fact,
    create_fact,
    fact_history,
    fact_list,
    fact_page,
    new_fact,
    recent_changes,
    retract_fact,
)
from service.http.workspace.rendering import render_page
from service.http.workspace.review import (
    accept_proposal,
    document_page,
    home,
    new_document,
    receive_document,
    reject_proposal,
)
from service.http.workspace.sessions import (
    CsrfRefused,
    SignInRequired,
    current_session,
)
from service.http.workspace.signing_in import sign_in, sign_in_form, sign_out
from service.http.workspace.words import LANG

STATIC = Path(__file__).resolve().parents[2] / "static"
SCRIPT = (STATIC / "edit.js").read_bytes()
STYLES = (STATIC / "edit.css").read_bytes()

# --- the script, the styles, the live date label -----------------------------------------


@get("/date-label", summary="How an EDTF date reads", include_in_schema=False)
async def date_label(edtf: str = "") -> dict[str, str]:
    try:
        bounds = parse_edtf(edtf[:64])
    except InvalidDate as exc:
        return {"error": str(exc)}
    return {"label": bounds.label[LANG], "precision": bounds.precision}


@get("/edit.js", summary="The workspace's script", include_in_schema=False)
async def script() -> Response[bytes]:
    return Response(
        SCRIPT, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )


@get("/edit.css", summary="The workspace's styles", include_in_schema=False)
async def styles() -> Response[bytes]:
    return Response(
        STYLES, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


# --- errors as pages -----------------------------------------------------------------------


def _error_page(request: Request, exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInRequired):
        # Leaving the path: back there after signing in.
        redirect = Redirect(
            "/edit/sign-in", status_code=303, query_params={"next": request.url.path}
        )
        return redirect
    if isinstance(exc, CsrfRefused):
        status, detail = (
            403,
            (
                "This form was refused: its security token is missing or out of date. "
                "Reload the page and send it again."
            ),
        )
    else:
        problem = handle_exception(request, exc)
        # Litestar's status_code is None for "the handler's default"; a problem sets its own.
        assert problem.status_code is not None
        status, detail = problem.status_code, problem.content["detail"]
    return render_page(
        request,
        "error.html.jinja2",
        current_session(request),
        {"status": status, "detail": detail},
        status=status,
    )


ROUTER = Router(
    path="/edit",
    route_handlers=[
        sign_in_form,
        sign_in,
        sign_out,
        home,
        new_document,
        receive_document,
        document_page,
        accept_proposal,
        reject_proposal,
        fact_list,
        new_fact,
        create_fact,
        fact_page,
        fact_history,
        change_fact,
        retract_fact,
        recent_changes,
        date_label,
        script,
        styles,
    ],
    exception_handlers={Exception: _error_page, HTTPException: _error_page},
)
POSTS = [
    sign_in,
    sign_out,
    receive_document,
    accept_proposal,
    reject_proposal,
    create_fact,
    change_fact,
    retract_fact,
]
