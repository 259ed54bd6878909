"""The API contract, enforced and described (issue 11, minor items).

* **Numbers only as JSON numbers.** Litestar converts request bodies with msgspec's lax mode, which accepts
  ``{"coins": "100"}`` and ``{"featured": "true"}``. :func:`strict_json_body` (a ``before_request`` hook) first
  decodes every API JSON body strictly against the handler's ``msgspec.Struct``; a string where a number or a
  boolean belongs is a 400 naming the field.
* **The OpenAPI schema lists error responses.** :func:`document_errors` adds the error codes of docs/api.md
  (``{"status_code", "detail"}`` bodies) to every ``/api/v1`` operation, and 503 (outages, web/outage.py).
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Reference, Schema

from marketplace.web.auth import is_api_path

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _struct_type(annotation: Any) -> type[msgspec.Struct] | None:
    """``JSONBody[T]`` / ``Annotated[T, ...]`` → ``T`` when it is a Struct (else None: nothing to check)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    if request.method not in WRITE_METHODS or not is_api_path(request.url.path):
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    target = _struct_type(parameter.annotation) if parameter is not None else None
    if target is None:
        return
    body = await request.body()
    try:
        msgspec.json.decode(body, type=target, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(f"Invalid request body: {exc}") from None
    except msgspec.DecodeError:
        return  # malformed JSON: Litestar's own parsing answers 400 for it


ERROR_DESCRIPTIONS = {
    "400": "Invalid input (malformed body, a number out of range)",
    "401": "Authentication required or failed",
    "402": "Not enough coins",
    "403": "Not allowed (not the owner, not an admin, banned)",
    "404": "Not found",
    "409": "Conflicts with the current state",
    "413": "Upload too large",
    "429": "Rate limited (see the Retry-After header)",
    "503": "Database or Redis briefly unavailable (see the Retry-After header)",
}
READ_CODES = ("400", "401", "403", "404", "429", "503")
WRITE_CODES = ("400", "401", "402", "403", "404", "409", "413", "429", "503")


def document_errors(app: Litestar) -> None:
    """Add the error responses to the generated schema (before it is first served)."""
    openapi = app.openapi_schema
    components = openapi.components
    if components.schemas is None:
        components.schemas = {}
    components.schemas["ErrorResponse"] = Schema(
        type=OpenAPIType.OBJECT,
        required=["status_code", "detail"],
        properties={"status_code": Schema(type=OpenAPIType.INTEGER), "detail": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING,
                                      description="The detail in the request's language (Accept-Language)."),
                    "extra": Schema()},
    )
    content = {"application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ErrorResponse"))}
    for path, item in (openapi.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for code in WRITE_CODES if method != "get" else READ_CODES:
                responses.setdefault(code, OpenAPIResponse(description=ERROR_DESCRIPTIONS[code], content=content))
            operation.responses = responses
