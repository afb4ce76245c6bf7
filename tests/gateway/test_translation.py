"""The gateway's translation, with the services replaced by `httpx.MockTransport`.

The app is the real composition (bootstrap), served in-process without its lifespan, so no
database or broker is involved.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from services.gateway.bootstrap import bootstrap
from services.gateway.settings import GatewaySettings
from tests.catalogue.helpers import bearer, staff_of

Handler = Callable[[httpx.Request], httpx.Response]
Gateway = Callable[[Handler], httpx.AsyncClient]
ENROLMENT = {
    "enrolment_id": "enr-2026-0001",
    "offering_id": "off-valdemora-data-ethics-2025",
    "partner_id": "valdemora",
    "learner_id": "lrn-0123456789abcdef",
    "status": "waitlisted",
    "position": 2,
    "requested_at": "2026-01-05T10:00:00Z",
    "changed_at": "2026-01-05T10:00:00Z",
    "added_later_by_the_service": True,
}


def problem(status: int, title: str, **extra: object) -> httpx.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": title}
    return httpx.Response(
        status,
        json={**body, "instance": "/x", **extra},
        headers={"content-type": "application/problem+json"},
    )


@pytest.fixture
def gateway() -> Gateway:
    def make(handler: Handler) -> httpx.AsyncClient:
        app = bootstrap(
            GatewaySettings(downstream_timeout_s=0.5, dev_idp_enabled=True),
            httpx.MockTransport(handler),
        )
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway")

    return make


async def test_the_callers_token_reaches_the_service_and_its_answer_comes_back(
    gateway: Gateway,
) -> None:
    seen: list[httpx.Request] = []

    def enrolment(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=ENROLMENT)

    learner = bearer("ada")
    async with gateway(enrolment) as client:
        answer = await client.post(
            "/me/enrolments", json={"offering_id": ENROLMENT["offering_id"]}, headers=learner
        )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "waitlisted"
    assert "added_later_by_the_service" not in answer.json()
    [request] = seen
    assert (request.method, request.url.host, request.url.port, request.url.path) == (
        "POST",
        "127.0.0.1",
        8002,
        "/enrolments",
    )
    assert request.headers["authorization"] == learner["Authorization"]


async def test_search_forwards_only_the_filters_given(
    gateway: Gateway,
) -> None:
    seen: list[httpx.Request] = []

    def catalogue(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "total": 0, "limit": 5, "offset": 0})

    async with gateway(catalogue) as client:
        answer = await client.get(
            "/offerings", params={"field": "0613", "mode": "online", "limit": 5}
        )
    assert answer.status_code == 200, answer.text
    assert dict(seen[0].url.params) == {
        "field": "0613",
        "mode": "online",
        "limit": "5",
        "offset": "0",
    }
    assert seen[0].url.port == 8001
    assert "authorization" not in seen[0].headers


async def test_a_services_refusal_reaches_the_caller_as_its_own_problem(
    gateway: Gateway,
) -> None:
    def catalogue(_: httpx.Request) -> httpx.Response:
        return problem(404, "Offering not found")

    def enrolment(_: httpx.Request) -> httpx.Response:
        return problem(409, "Already enrolled", errors=[{"location": "x", "message": "y"}])

    async with gateway(catalogue) as client:
        missing = await client.get("/offerings/off-nowhere-1234")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "Offering not found"
    assert missing.json()["instance"] == "/offerings/off-nowhere-1234"

    async with gateway(enrolment) as client:
        twice = await client.post(
            "/me/enrolments", json={"offering_id": "off-valdemora-x1"}, headers=bearer("ada")
        )
    assert twice.status_code == 409
    assert twice.json()["errors"] == [{"location": "x", "message": "y"}]


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (httpx.ConnectError("connection refused"), 503),
        (httpx.ReadTimeout("slow"), 504),
        (httpx.Response(500, text="boom"), 502),
        (httpx.Response(200, json={"unexpected": "shape"}), 502),
    ],
)
async def test_a_service_down_slow_or_failing_is_a_problem_never_a_500(
    gateway: Gateway,
    failure: Exception | httpx.Response,
    status: int,
) -> None:
    def assessment(_: httpx.Request) -> httpx.Response:
        if isinstance(failure, Exception):
            raise failure
        return failure

    async with gateway(assessment) as client:
        answer = await client.get("/me/results", headers=bearer("ada"))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "assessment" in answer.json()["detail"]


async def test_a_change_that_timed_out_may_still_have_been_made(gateway: Gateway) -> None:
    def enrolment(_: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    async with gateway(enrolment) as client:
        asked = await client.post(
            "/me/enrolments", json={"offering_id": "off-valdemora-x1"}, headers=bearer("ada")
        )
        read = await client.get("/me/enrolments", headers=bearer("ada"))
    assert asked.status_code == read.status_code == 504
    # A learner whose enrolment committed after the gateway stopped waiting is told to look.
    assert "may still have carried out your request" in asked.json()["detail"]
    assert "may still" not in read.json()["detail"]


async def test_learner_routes_check_the_token_before_calling_anyone(
    gateway: Gateway,
) -> None:
    def nobody(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"called {request.url}")

    async with gateway(nobody) as client:
        assert (await client.get("/me/enrolments")).status_code == 401
        forged = {"Authorization": "Bearer not-a-jwt"}
        assert (await client.get("/me/results", headers=forged)).status_code == 401
        assert (
            await client.get("/me/enrolments", headers=staff_of("valdemora"))
        ).status_code == 403


async def test_me_says_who_the_token_names(
    gateway: Gateway,
) -> None:
    async with gateway(lambda r: httpx.Response(500)) as client:
        token = await client.post("/dev-idp/token", json={"subject": "ada", "role": "learner"})
        learner = {"Authorization": f"Bearer {token.json()['access_token']}"}
        me = (await client.get("/me", headers=learner)).json()
        staff = (await client.get("/me", headers=staff_of("lindeveld"))).json()
    assert me["role"] == "learner"
    assert me["learner_id"].startswith("lrn-")
    assert staff == {"role": "partner_staff", "learner_id": None, "partner_id": "lindeveld"}
