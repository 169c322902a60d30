"""The facts: list, record, change, retract, and each fact's history."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template

from events.decider import (
    STREAM_PREFIX,
    ChangeFact,
    DomainError,
    RecordFact,
    RetractFact,
    stream_id,
)
from events.facts import (
    FACT_ID,
    MAX_ID,
    Fact,
    FactError,
    validate_id,
)
from events.handler import handle
from events.store import ConcurrencyError, RecordedEvent
from projections import timeline
from projections.vocabulary import words
from service.http.params import TIMELINE, TimelineQuery
from service.http.problems import Problem
from service.http.workspace.forms import (
    changed_fields,
    fact_fields,
    form_text,
    form_values,
    form_version,
    laid_over,
)
from service.http.workspace.history import differences, versions
from service.http.workspace.rendering import edtf_label, field_errors, go_to, render_page
from service.http.workspace.sessions import EDITOR, Session, form_of
from service.http.workspace.words import LANG

# --- facts ------------------------------------------------------------------------------


@get("/facts", dependencies={**EDITOR, **TIMELINE}, summary="Facts", include_in_schema=False)
async def fact_list(
    request: Request,
    state: State,
    session: Session,
    timeline_query: TimelineQuery,
    cursor: str | None = None,
) -> Template:
    try:
        after = timeline.decode_cursor(cursor) if cursor else None
    except timeline.InvalidCursor as exc:
        raise Problem(400, str(exc)) from None
    rows, next_cursor = await state.database.run(
        timeline.page, timeline_query.filters, limit=100, after=after
    )
    params = request.query_params
    filters = {
        "from": params.get("from") or "",
        "to": params.get("to") or "",
        "country": ", ".join(params.getall("country", [])),
        "tag": ", ".join(params.getall("tag", [])),
        "status": params.getall("status", []),
        "kind": params.get("kind") or "",
        "q": params.get("q") or "",
    }
    more = None
    if next_cursor:
        query = [(k, v) for k, v in params.multi_items() if k not in ("cursor", "notice")]
        query.append(("cursor", timeline.encode_cursor(next_cursor)))
        more = "/edit/facts?" + urlencode(query)
    facts = [(row, row.fact(), edtf_label(row.fact().date.edtf)) for row in rows]
    return render_page(
        request, "facts.html.jinja2", session, {"facts": facts, "filters": filters, "more": more}
    )


@get("/facts/new", dependencies=EDITOR, summary="A new fact", include_in_schema=False)
async def new_fact(request: Request, session: Session) -> Template:
    return render_page(request, "new_fact.html.jinja2", session, {"values": {}, "errors": {}})


@post("/facts", dependencies=EDITOR, summary="Record a fact", include_in_schema=False)
async def create_fact(request: Request, state: State, session: Session) -> Response[Any]:
    form = await form_of(request, session)
    fields = fact_fields(form)
    fact_id = form_text(form, "id")
    values = form_values({**fields, "id": fact_id})
    reason = form_text(form, "reason")[:1000] or None
    try:
        validate_id(fact_id)  # before the store is asked for a stream of that name
        data = {k: v for k, v in fields.items() if v is not None}
        fact = msgspec.convert({"id": fact_id, **data}, Fact)
        await handle(
            state.store, fact_id, RecordFact(fact), actor=session.actor or "", reason=reason
        )
    except (FactError, msgspec.ValidationError, DomainError, ConcurrencyError) as exc:
        refused = isinstance(exc, FactError | msgspec.ValidationError)
        found = (
            field_errors(exc) if refused else {"id": f"a fact with id {fact_id!r} already exists"}
        )
        context = {"values": {**values, "reason": reason or ""}, "errors": found}
        return render_page(
            request, "new_fact.html.jinja2", session, context, status=422 if refused else 409
        )
    return go_to(f"/edit/facts/{fact_id}", "created")


def _checked_fact_id(fact_id: str) -> str:
    if len(fact_id) > MAX_ID or not FACT_ID.fullmatch(fact_id):
        raise Problem(404, "no fact with this id (ids are lowercase slugs)")
    return fact_id


async def _fact_page(
    request: Request,
    state: State,
    session: Session,
    fact_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    recorded = await state.store.read_stream(stream_id(_checked_fact_id(fact_id)))
    if not recorded:
        raise Problem(404, f"no fact with id {fact_id!r}")
    history = versions(recorded)
    current = history[-1].fact
    context = {
        "fact_id": fact_id,
        "fact": current,
        "version": recorded[-1].version,
        "label": edtf_label(current.date.edtf) if current else "",
        "values": values or form_values(current),
        "errors": errors or {},
        "conflict": conflict,
        "history": history,
    }
    return render_page(request, "fact.html.jinja2", session, context, status=status)


@get("/facts/{fact_id:str}", dependencies=EDITOR, summary="Edit a fact", include_in_schema=False)
async def fact_page(request: Request, state: State, session: Session, fact_id: str) -> Template:
    return await _fact_page(request, state, session, fact_id)


@get(
    "/facts/{fact_id:str}/history",
    dependencies=EDITOR,
    summary="A fact's history",
    include_in_schema=False,
)
async def fact_history(request: Request, state: State, session: Session, fact_id: str) -> Template:
    recorded = await state.store.read_stream(stream_id(_checked_fact_id(fact_id)))
    if not recorded:
        raise Problem(404, f"no fact with id {fact_id!r}")
    context = {"fact_id": fact_id, "history": list(reversed(versions(recorded)))}
    return render_page(request, "history.html.jinja2", session, context)


def _reason(form: dict[str, Any], name: str = "reason") -> str:
    reason = form_text(form, name)
    if not reason:
        raise FactError(name, "say why: every change keeps its reason")
    if len(reason) > 1000:
        raise FactError(name, "at most 1000 characters")
    return reason


@post("/facts/{fact_id:str}", dependencies=EDITOR, summary="Change a fact", include_in_schema=False)
async def change_fact(
    request: Request, state: State, session: Session, fact_id: str
) -> Response[Any]:
    form = await form_of(request, session)
    _checked_fact_id(fact_id)
    fields = fact_fields(form)
    read_version = form_version(form)
    if read_version is None:
        raise Problem(400, "the form lost the version it was read at: reload the fact")
    reason_text = form_text(form, "reason")
    recorded = await state.store.read_stream(stream_id(fact_id))
    if not recorded:
        raise Problem(404, f"no fact with id {fact_id!r}")
    history = versions(recorded)
    read = history[read_version - 1].fact if 0 < read_version <= len(history) else None
    current_version = recorded[-1].version
    if read is None:
        raise Problem(409, f"fact {fact_id!r} has no version {read_version} to change")
    mine = changed_fields(read, fields)
    if read_version != current_version:
        # Stale: show what the others changed, and the editor's own changes laid over the
        # fact as it is now, at its current version, to send again: nothing is overwritten.
        current = history[-1].fact
        if current is None:
            raise Problem(410, f"fact {fact_id!r} was retracted since you read it")
        values = {**form_values(laid_over(current, mine)), "reason": reason_text}
        try:
            mine_fact = msgspec.convert(laid_over(read, mine), Fact)
        except msgspec.ValidationError:
            mine_fact = read  # what was typed is refused anyway when sent again; name nothing
        return await _fact_page(
            request,
            state,
            session,
            fact_id,
            values=values,
            errors={},
            conflict={
                "read": read_version,
                "theirs": history[read_version:],
                "mine": [c["field"] for c in differences(read, mine_fact)],
                "both": sorted(
                    {c["field"] for c in differences(read, mine_fact)}
                    & {c["field"] for c in differences(read, current)}
                ),
            },
            status=409,
        )
    try:
        reason = _reason(form)
        change = msgspec.convert(mine, ChangeFact)
        outcome = await handle(
            state.store,
            fact_id,
            change,
            actor=session.actor or "",
            reason=reason,
            expected_version=read_version,
        )
    except (FactError, msgspec.ValidationError, DomainError) as exc:
        found = (
            field_errors(exc)
            if isinstance(exc, FactError | msgspec.ValidationError)
            else {"": str(exc)}
        )
        values = {**form_values(fields), "reason": reason_text}
        return await _fact_page(
            request, state, session, fact_id, values=values, errors=found, status=422
        )
    except ConcurrencyError:
        return go_to(f"/edit/facts/{fact_id}")  # raced between the read and the write: read again
    notice = "changed" if outcome.recorded else "unchanged"
    return go_to(f"/edit/facts/{fact_id}", notice)


@post(
    "/facts/{fact_id:str}/retract",
    dependencies=EDITOR,
    summary="Retract a fact",
    include_in_schema=False,
)
async def retract_fact(
    request: Request, state: State, session: Session, fact_id: str
) -> Response[Any]:
    form = await form_of(request, session)
    _checked_fact_id(fact_id)
    read_version = form_version(form)
    if read_version is None:
        raise Problem(400, "the form lost the version it was read at: reload the fact")
    try:
        reason = _reason(form, "retract-reason")
        await handle(
            state.store,
            fact_id,
            RetractFact(),
            actor=session.actor or "",
            reason=reason,
            expected_version=read_version,
        )
    except FactError as exc:
        return await _fact_page(
            request, state, session, fact_id, errors={"retract-reason": exc.message}, status=422
        )
    except ConcurrencyError as exc:
        message = f"The fact changed since you read it (version {exc.expected}, now {exc.actual}): read it again before retracting."
        return await _fact_page(
            request, state, session, fact_id, errors={"retract-reason": message}, status=409
        )
    return go_to(f"/edit/facts/{fact_id}", "retracted")


@get("/changes", dependencies=EDITOR, summary="Recent changes", include_in_schema=False)
async def recent_changes(request: Request, state: State, session: Session) -> Template:
    head = await state.store.head()
    found: list[RecordedEvent] = []
    after = head
    # Back through the log in chunks until fifty fact events (documents' events skipped).
    while after > 0 and len(found) < 50:
        start = max(0, after - 500)
        chunk = await state.store.read_all(after=start, limit=after - start)
        found = [r for r in chunk if r.stream_id.startswith(STREAM_PREFIX)] + found
        after = start
    changes = [
        {
            "event": r,
            "fact_id": r.stream_id[len(STREAM_PREFIX) :],
            "what": words(LANG).events.get(r.type.split(".")[0], r.type),
        }
        for r in reversed(found[-50:])
    ]
    return render_page(request, "changes.html.jinja2", session, {"changes": changes})
