"""Read-model queries compiled once and run on the driver's own cursor.

On each execution SQLAlchemy keys a Select to find its compiled form, and wraps the
driver's rows in a result with column metadata; for the short reads every page and feed
makes (fifty keys, fifteen events) that cost more than SQLite's own work. Here a Select
built once per query shape is compiled once, the values of its named parameters given per
call (a cursor, a limit), and its rows are the driver's tuples.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import sqlalchemy as sa


class Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...] | None  # the parameters in order, for positional paramstyles
    defaults: dict[str, Any]  # the values the Select was built with


@functools.lru_cache(maxsize=1024)
def compiled(select: sa.Select[Any], dialect: sa.Dialect) -> Compiled:
    found = select.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    names = tuple(found.positiontup) if found.positiontup is not None else None
    return Compiled(found.string, names, dict(found.construct_params()))


def fetch_all(conn: sa.Connection, select: sa.Select[Any], **values: Any) -> list[Any]:
    """The rows of `select` as the driver gives them, with `values` for its named
    parameters (the others keep the values it was built with). Values must be the
    driver's own types: no SQLAlchemy type processing runs."""
    query = compiled(select, conn.dialect)
    params: tuple[Any, ...] | dict[str, Any]
    if query.names is not None:
        given = query.defaults | values if values else query.defaults
        params = tuple(given[name] for name in query.names)
    else:
        params = query.defaults | values
    cursor = conn.connection.cursor()
    try:
        cursor.execute(query.sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
