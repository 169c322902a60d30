"""The OpenAPI description, completed with what Litestar cannot infer from handlers.

Litestar documents only the 200 and its own 400 (as application/json). Every error this
service sends is application/problem+json (service/http/problems.py), any operation can meet a
database outage (503), and conditional reads answer 304: say so once, for every
operation, so that clients and schema-driven fuzzers see the real contract.
"""

from __future__ import annotations

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Schema,
)

from service.http.problems import MEDIA_TYPE

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
    },
    description="RFC 9457 problem details; some problems add fields (e.g. `errors`, `field`).",
)

_ERRORS = {
    "4XX": "The request is wrong: the detail says what to change.",
    "503": "The database is unreachable; retry later (see Retry-After).",
}
_METHODS = ("get", "put", "post", "patch", "delete")


def _problem(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description, content={MEDIA_TYPE: OpenAPIMediaType(schema=PROBLEM)}
    )


def document_errors(openapi: OpenAPI, conditional_paths: set[str]) -> None:
    """Add problem responses to every operation, and 304 to conditional reads."""
    for path, item in (openapi.paths or {}).items():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses or {}
            for status in [s for s in responses if s.startswith(("4", "5"))]:
                del responses[status]  # Litestar's own 400 says application/json
            for status, description in _ERRORS.items():
                responses[status] = _problem(description)
            if method == "get" and path in conditional_paths:
                responses["304"] = OpenAPIResponse(
                    description="Not modified: the ETag or Last-Modified you sent is current.",
                    headers={"ETag": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING))},
                )
            operation.responses = responses
