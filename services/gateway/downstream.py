"""Calling the alliance services on the learner's behalf, and translating what goes wrong.

The caller's bearer token is forwarded unchanged, so each service decides for itself what
the caller may see. A service's refusal (4xx) reaches the caller as that service's own
problem; a service that is down, slow or failing becomes a 503, 504 or 502 problem.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from shared.http_client import pooled_transport
from shared.problems import Problem, problem_response
from shared.telemetry import instrument_http_client

log = logging.getLogger(__name__)

T = TypeVar("T")
# What any route that calls a service may answer besides its own statuses.
UPSTREAM_FAILURES = (502, 503, 504)
# Methods that change nothing at the service.
_READS = frozenset({"GET", "HEAD"})


def authorization(request: Request) -> str | None:
    """The caller's credentials, passed on to the services as they came."""
    return request.headers.get("authorization")


class DownstreamRefused(Exception):
    """A service answered 4xx: the caller gets that answer, as the service worded it."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail", ""))
        self.status = status
        self.problem = problem


@dataclass
class Downstream:
    """One service the gateway reads through."""

    name: str
    client: httpx.AsyncClient

    async def call(
        self,
        method: str,
        path: str,
        authorization: str | None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        headers = {"Authorization": authorization} if authorization else {}
        try:
            response = await self.client.request(
                method,
                _absolute(str(self.client.base_url), path),
                params=params,
                json=body,
                headers=headers,
            )
        except httpx.TimeoutException as exc:
            detail = f"The {self.name} service did not answer in time."
            if method not in _READS:
                # The service may have committed after the gateway stopped waiting: asking
                # again at once would be answered 409 (already enrolled, already submitted).
                detail += " It may still have carried out your request: read it back first."
            raise Problem(504, "Gateway Timeout", detail) from exc
        except httpx.TransportError as exc:
            log.warning("%s unreachable: %s", self.name, type(exc).__name__)
            raise Problem(
                503, "Service Unavailable", f"The {self.name} service cannot be reached."
            ) from exc
        if 400 <= response.status_code < 500:
            raise DownstreamRefused(response.status_code, _problem_of(response))
        if response.status_code >= 300:
            log.warning("%s answered %d to %s %s", self.name, response.status_code, method, path)
            raise Problem(
                502,
                "Bad Gateway",
                f"The {self.name} service failed (HTTP {response.status_code}).",
            )
        return response

    async def fetch(
        self,
        method: str,
        path: str,
        authorization: str | None,
        shape: type[T],
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> T:
        """`call`, then the answer read as `shape`."""
        return self.read(await self.call(method, path, authorization, params, body), shape)

    def read(self, response: httpx.Response, shape: type[T]) -> T:
        """The answer as `shape`; an answer of another shape is the service's fault (502)."""
        try:
            return TypeAdapter(shape).validate_json(response.content)
        except ValidationError as exc:
            log.warning("%s answered an unexpected shape: %s", self.name, exc)
            raise Problem(
                502, "Bad Gateway", f"The {self.name} service gave an answer of unexpected shape."
            ) from exc

    async def aclose(self) -> None:
        await self.client.aclose()


# The gateway calls a few paths again and again, and some with ids, hence a bound.
@functools.lru_cache(maxsize=1024)
def _absolute(base_url: str, path: str) -> httpx.URL:
    """`path` on a service's base URL, parsed once: given a relative path, httpx parses it
    and then the merged URL again on every request (POST /enrolments to a local server,
    alternating runs: 405-534 µs of the gateway's CPU a call with the URL given whole,
    449-632 µs parsed each time)."""
    return httpx.URL(base_url.rstrip("/") + path)


def _problem_of(response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("title"), str):
        return {**body, "status": status}
    return {
        "type": "about:blank",
        "title": response.reason_phrase or "Request refused",
        "status": status,
        "detail": response.text[:500] or "The service refused the request.",
    }


@dataclass
class Downstreams:
    catalogue: Downstream
    enrolment: Downstream
    assessment: Downstream
    issuance: Downstream
    recognition: Downstream

    @classmethod
    def connect(
        cls,
        urls: Mapping[str, str],
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        traced: bool = False,
    ) -> Downstreams:
        """One pooled client per service; `transport` replaces the network in tests;
        `traced` when traces are exported."""
        # One TLS context for all: each client would otherwise load the CA bundle into its
        # own, about 1.2 MiB apiece.
        tls = httpx.create_ssl_context()

        def client(name: str) -> Downstream:
            made = httpx.AsyncClient(
                base_url=urls[name],
                timeout=timeout_s,
                transport=transport or pooled_transport(tls),
            )
            if traced:
                instrument_http_client(made)
            return Downstream(name, made)

        return cls(*(client(f.name) for f in fields(cls)))

    async def aclose(self) -> None:
        for f in fields(self):
            await getattr(self, f.name).aclose()


def install_refusal_handler(app: FastAPI) -> None:
    """Passes a service's refusal on, with its members (such as `errors`) intact."""

    @app.exception_handler(DownstreamRefused)
    async def _refused(request: Request, exc: DownstreamRefused) -> JSONResponse:
        problem = {k: v for k, v in exc.problem.items() if k not in ("status", "instance")}
        title = str(problem.pop("title"))
        detail = str(problem.pop("detail", title))
        type_ = str(problem.pop("type", "about:blank"))
        # `instance` names the gateway's resource: the service's own paths mean nothing here.
        return problem_response(exc.status, title, detail, request.url.path, type_, **problem)
