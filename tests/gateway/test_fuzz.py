"""Schemathesis fuzzes the gateway from its own OpenAPI document (tests/support/fuzz.py).

The gateway runs in-process over fake services, with its own database on SQLite (share
links); the services behind it are fuzzed as their real processes in their own folders.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.bootstrap import bootstrap
from services.gateway.settings import GatewaySettings
from shared.db.migrate import upgrade
from shared.events import OfferingPublished
from tests.contracts.examples import example_event
from tests.gateway.fake_issuance import FakeIssuance
from tests.gateway.test_translation import ENROLMENT
from tests.support.fuzz import (
    BOUNDED,
    CALLER_IDS,
    CALLERS,
    CHECKS,
    LEARNER,
    NOT_FUZZED,
    CallerRole,
    caller,
)


def _offering() -> dict[str, object]:
    event = example_event("offering.published")
    assert isinstance(event, OfferingPublished)
    snapshot = json.loads(event.model_dump_json(exclude={"published_at"}, exclude_none=True))
    return {
        "offering_id": event.offering_id,
        "partner_id": event.partner_id,
        "version": 1,
        "status": "published",
        "offering": snapshot,
    }


_ISSUANCE = FakeIssuance()
_ISSUANCE.issue(LEARNER)


def _fake_services(request: httpx.Request) -> httpx.Response:
    """Answers as the catalogue, enrolment, assessment, issuance and recognition services do."""
    path = request.url.path
    if request.url.port == 8004:
        return _ISSUANCE.handle(request)
    if path in ("/pathways", "/progress"):
        return httpx.Response(200, json=[])
    if path == "/offerings":
        return httpx.Response(
            200, json={"items": [_offering()], "total": 1, "limit": 20, "offset": 0}
        )
    if path.startswith("/offerings/"):
        return httpx.Response(200, json=_offering())
    if path == "/enrolments" and request.method == "GET":
        return httpx.Response(200, json=[ENROLMENT])
    if path.startswith("/enrolments"):
        return httpx.Response(201 if request.method == "POST" else 200, json=ENROLMENT)
    if path == "/results":
        return httpx.Response(200, json={"items": [], "limit": 100, "offset": 0})
    return httpx.Response(404, json={"type": "about:blank", "title": "Not Found", "status": 404})


def _migrated_database() -> str:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'gateway.db'}"
    upgrade("gateway", url)
    return url


def _without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app minus its start-up: its database is ready, and it uses no broker."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return serve


gateway = schemathesis.openapi.from_asgi(
    "/openapi.json",
    _without_lifespan(
        bootstrap(
            GatewaySettings(dev_idp_enabled=True, database_url=_migrated_database()),
            httpx.MockTransport(_fake_services),
        )
    ),
).exclude(path_regex=NOT_FUZZED)


@pytest.mark.parametrize("role", CALLERS, ids=CALLER_IDS)
@gateway.parametrize()
@BOUNDED
def test_the_gateway_keeps_its_openapi_promises(
    case: schemathesis.Case[Any], role: CallerRole
) -> None:
    case.call_and_validate(headers=caller(role), checks=CHECKS)
