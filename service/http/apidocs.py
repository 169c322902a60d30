"""The interactive API page at /schema: Swagger UI served from this service, no CDN.

Litestar's own viewer pages load their scripts from a CDN, which the service's CSP
forbids and which an offline host cannot reach. Swagger UI's built files come from the
`swagger-ui-py` package (installed with the service, not copied into this repository);
they are served under /schema/assets, and the page loads only those, its own start
script, and the OpenAPI JSON: `headers.DOCS_CSP` allows exactly that.
"""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router


def _swagger_ui_files() -> Path:
    # The package's directory only: importing it would import its web framework adapters.
    spec = importlib.util.find_spec("swagger_ui")
    assert spec is not None and spec.submodule_search_locations, "swagger-ui-py is installed"
    return Path(spec.submodule_search_locations[0]) / "static"


SWAGGER_UI = _swagger_ui_files()
ASSETS = "assets"  # under the OpenAPI path: /schema/assets/swagger-ui-bundle.js
ASSET_CACHE = CacheControlHeader(public=True, max_age=86400)

# The viewer's start: the description is fetched (connect-src 'self'), not inlined, so
# the page needs no inline script. It sits beside openapi.json, so finds it by its own URL.
START_SCRIPT = """window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.currentScript.src).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  // BaseLayout: no top bar, whose logo is an inline <style> the CSP refuses
  layout: 'BaseLayout',
});
"""


class SwaggerUIPlugin(OpenAPIRenderPlugin):
    """Swagger UI at the OpenAPI path (and /swagger under it), from the service's own files."""

    def __init__(self, schema_path: str) -> None:
        super().__init__(path=["/", "/swagger"])
        self.base = schema_path.rstrip("/") + "/"

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        assets = f"{self.base}{ASSETS}"
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(openapi_schema["info"]["title"])}: API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<script src="{assets}/swagger-ui-bundle.js" defer></script>
<script src="{self.base}start.js" defer></script>
</head><body><div id="swagger-ui"></div></body></html>""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(
            create_static_files_router(
                path=f"/{ASSETS}",
                directories=[SWAGGER_UI],
                name="swagger-ui",
                cache_control=ASSET_CACHE,
            )
        )
        router.register(start_script)


@get(
    "/start.js",
    media_type="text/javascript",
    cache_control=ASSET_CACHE,
    sync_to_thread=False,
    include_in_schema=False,
)
def start_script() -> str:
    return START_SCRIPT
