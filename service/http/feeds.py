"""The iCalendar feeds: `GET /calendar.ics`, for calendar apps to subscribe to."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import Parameter

from events.dates import parse_edtf
from projections import calendar, timeline
from service.http.conditional import KEPT_LARGE
from service.http.params import COUNTRY, REPEATABLE, base_url, choose_lang, timeline_filters
from service.http.problems import Problem

MEDIA_TYPE = "text/calendar"  # Litestar adds "; charset=utf-8" to text types
# Calendar apps poll on their own schedule; a short max-age lets caches between them and
# the service absorb bursts while an ETag keeps revalidation cheap.
FEED = {**KEPT_LARGE, "cache_control": "public, max-age=300"}
PRECISIONS = ("day", "any")
# One response's bound: a calendar of more events is unreadable in any app, and each costs
# about 2 KB of the response (and a millisecond to render when not kept yet).
MAX_FEED_EVENTS = 10_000


@get(
    "/calendar.ics",
    opt=FEED,
    media_type=MEDIA_TYPE,
    summary="An iCalendar feed of the timeline, for calendar apps to subscribe to",
    description=(
        "Facts known to the day as all-day events; `precision=any` adds month, season and "
        "year facts as tentative spans over their whole bounds. Open-ended periods are never "
        "in a feed. `id` gives one fact's event (the 'add to calendar' link). Subscribe with "
        "the same URL in its webcal:// form."
    ),
    responses={},
)
async def get_calendar(
    request: Request,
    state: State,
    id: Annotated[list[str] | None, Parameter(description=f"fact id; {REPEATABLE}")] = None,
    country: Annotated[list[str] | None, Parameter(description=COUNTRY)] = None,
    tag: Annotated[list[str] | None, Parameter(description=REPEATABLE)] = None,
    status: Annotated[list[str] | None, Parameter(description=REPEATABLE)] = None,
    kind: Annotated[list[str] | None, Parameter(description=REPEATABLE)] = None,
    lang: Annotated[str | None, Parameter(description="en or ru")] = None,
    precision: Annotated[str, Parameter(description="day (default) or any")] = "day",
) -> Response[bytes]:
    if precision not in PRECISIONS:
        raise Problem(400, f"precision must be day or any, not {precision[:40]!r}")
    query = calendar.FeedQuery(
        filters=timeline_filters(id=id, country=country, tag=tag, status=status, kind=kind),
        lang=choose_lang(lang, request.headers.get("accept-language")),
        any_precision=precision == "any",
    )
    try:
        body, count = await calendar.feed(state.store, query, base_url(state), MAX_FEED_EVENTS)
    except calendar.TooManyEvents as exc:
        raise Problem(
            400,
            f"{exc.count} facts match this feed, more than the {exc.limit} one feed may hold; "
            "narrow it with country, tag, status or kind",
        ) from None
    if count == 0 and len(query.filters.fact_ids) == 1:
        await _explain_missing_event(state, query)
    filename = (
        f"{query.filters.fact_ids[0]}.ics" if len(query.filters.fact_ids) == 1 else "timeline.ics"
    )
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def _explain_missing_event(state: State, query: calendar.FeedQuery) -> None:
    """An "add to calendar" link that yields nothing says why, instead of an empty calendar."""
    fact_id = query.filters.fact_ids[0]
    row = await state.database.run(timeline.fact_row, fact_id)
    if row is None:
        raise Problem(404, f"no fact {fact_id!r}")
    if row.retracted:
        raise Problem(410, f"the fact {fact_id!r} was retracted")
    bounds = parse_edtf(row.fact().date.edtf)
    if bounds.start is None or bounds.end is None:
        raise Problem(
            404, f"{fact_id!r} has an open-ended date ({bounds.label['en']}): no calendar event"
        )
    if not calendar.in_calendars(row.start, row.end):
        raise Problem(
            404,
            f"{fact_id!r} ends on 31 December 9999 ({bounds.label['en']}): a calendar event "
            "ends on the day after its last, and no calendar can write a day after 9999",
        )
    if not query.any_precision and not calendar.day_known(bounds):
        raise Problem(
            404,
            f"{fact_id!r} is not known to the day ({bounds.label['en']}); "
            "add precision=any to get it as a tentative span",
        )


ROUTES = [get_calendar]
