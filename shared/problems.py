"""RFC 9457 problem details for every HTTP error, so no client ever sees a bare 500 page."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import Conflict, DomainError, Invalid, NotFound, NotPermitted, NotYet, Stale

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemDetails(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = Field(
        default=None, description="What is wrong with the request, for 422."
    )


_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem details a route may answer with."""
    return {
        status: {"description": HTTPStatus(status).phrase, "content": _PROBLEM_CONTENT}
        for status in statuses
    }


# How the API reports each kind of domain refusal.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    # The more specific kinds first.
    Stale: 412,
    NotFound: 404,
    NotPermitted: 403,
    Conflict: 409,
    NotYet: 409,
    Invalid: 422,
}


def domain_status(error: DomainError) -> int:
    return next((s for kind, s in DOMAIN_STATUS.items() if isinstance(error, kind)), 422)


class Problem(Exception):
    """An error the API reports as a problem detail."""

    def __init__(self, status: int, title: str, detail: str, type_: str = "about:blank") -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_


def problem_response(
    status: int, title: str, detail: str, instance: str, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": instance}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _document_problems(app: FastAPI) -> None:
    """Makes the OpenAPI document say what is really sent: problem details, also for 422."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["ProblemDetails"] = ProblemDetails.model_json_schema()
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path, operations in list(schema.get("paths", {}).items()):
            if path.startswith("/asyncapi"):
                # FastStream's AsyncAPI pages are HTML and YAML, documented by AsyncAPI itself.
                del schema["paths"][path]
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = problem_responses(422)[422]
                if "requestBody" in operation and "400" not in responses:
                    # FastAPI answers 400 to a body it cannot parse, before any validation.
                    responses["400"] = problem_responses(400)[400]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    _document_problems(app)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, request.url.path, exc.type)

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> JSONResponse:
        status = domain_status(exc)
        title = exc.title or HTTPStatus(status).phrase
        return problem_response(status, title, str(exc), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else title
        response = problem_response(exc.status_code, title, detail, request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "location": ".".join(str(p) for p in err.get("loc", ())),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        return problem_response(
            422,
            "Invalid request",
            "The request does not match the API.",
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "Internal Server Error",
            "The service failed; the error is logged.",
            request.url.path,
        )
