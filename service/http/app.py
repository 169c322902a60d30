"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from litestar import Litestar, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp

from events.db import async_url, refuses_writes
from events.instants import Clock, utc_now
from events.store import EventStore
from projections.items import EncodedItems
from service.http import access_log, api, documents, embed, feeds, jobs_api, pages, workspace
from service.http.apidocs import SwaggerUIPlugin
from service.http.auth import FailureLimiter
from service.http.conditional import conditional_middleware
from service.http.head import HeadAsGet
from service.http.headers import security_headers_middleware
from service.http.limits import request_limits_middleware
from service.http.openapi import document_errors
from service.http.problems import handle_exception
from service.jobs.scheduler import start_scheduler
from service.settings import Settings
from service.wiring import open_store


class Health(msgspec.Struct, omit_defaults=True):
    status: str
    database: str
    writes: str  # ok, or failing (the database is unreachable or refuses writes)
    last_position: int | None
    # Whether this process runs the scheduled jobs (absent when its scheduler is off).
    runner: bool | None = None
    audit: jobs_api.AuditStatus | None = None  # the last finished audit (absent before one)


@get("/health", summary="Service health: database reachable, the log's last position, audit")
async def health(state: State) -> Health:
    store: EventStore = state.store
    runner = jobs_api.runner_or_none(state)
    try:
        position = await store.head()
        audit = await jobs_api.audit_status(store.database)
        read_only = await refuses_writes(store.engine)
    except Exception:  # the database is down or unreachable: say so, don't fail
        return Health("degraded", "unreachable", "failing", last_position=None, runner=runner)
    healthy = (audit is None or audit.ok) and not read_only
    writes = "failing" if read_only else "ok"
    return Health("ok" if healthy else "degraded", "reachable", writes, position, runner, audit)


def _pool(settings: Settings) -> dict[str, int]:
    """The PostgreSQL pool's size (SQLite reads on its own connections, and NullPool has
    no size)."""
    if settings.db_null_pool or async_url(settings.database_url).get_backend_name() != "postgresql":
        return {}
    return {"pool_size": settings.db_pool_size, "max_overflow": settings.db_pool_overflow}


def create_app(settings: Settings, *, clock: Clock = utc_now) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store = open_store(
            settings.database_url,
            null_pool=settings.db_null_pool,
            clock=clock,
            connect_timeout=settings.db_connect_timeout_seconds,
            statement_timeout=settings.db_statement_timeout_seconds,
            **_pool(settings),
        )
        app.state.store = store
        app.state.database = store.database  # the read models' queries: Database.run
        scheduler = await start_scheduler(store, settings, clock) if settings.scheduler else None
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            await store.close()
            await store.engine.dispose()

    app = HeadAsGet(
        route_handlers=[
            health,
            *api.ROUTES,
            *documents.ROUTES,
            *feeds.ROUTES,
            *jobs_api.ROUTES,
            *embed.ROUTES,
            *pages.ROUTES,
            workspace.ROUTER,
        ],
        template_config=TemplateConfig(directory=pages.TEMPLATES, engine=JinjaTemplateEngine),
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "auth_limiter": FailureLimiter(),
                "encoded_items": EncodedItems(),
            }
        ),
        middleware=[security_headers_middleware, request_limits_middleware, conditional_middleware],
        exception_handlers={Exception: handle_exception},
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["If-None-Match", "If-Modified-Since", "Accept-Language"],
            expose_headers=["ETag", "Last-Modified"],
        ),
        openapi_config=OpenAPIConfig(
            title="Timeline service",
            version="1.0.0",
            description="An event-sourced timeline of dated facts, with iCalendar feeds.",
            path="/schema",
            # Swagger UI from the service's own files, the description as JSON and YAML
            render_plugins=[SwaggerUIPlugin("/schema"), JsonRenderPlugin(), YamlRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API token")
                }
            ),
        ),
    )
    conditional = {
        route.path_format
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get("conditional")
    }
    document_errors(app.openapi_schema, conditional)
    return app


def app_from_env() -> ASGIApp:
    """Entry point for the ASGI server (`timeline serve`), with its access log unless off."""
    settings = Settings.from_env()
    app = create_app(settings)
    return access_log.logged(app) if settings.access_log else app
