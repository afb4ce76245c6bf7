"""The enrolment service as its own process, on the real broker and PostgreSQL.

Partners publish signed offering events, the issuance service signed credential events;
learners enrol concurrently through the API, and what the API answers is what the service
announces on `alliance.enrolments`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from shared.auth import Role, learner_id_for
from shared.dev_idp import TokenRequest, issue_token
from shared.envelope import EventSigner
from shared.events import CredentialIssued, CredentialRevoked, OfferingPublished, Prerequisites
from shared.events.topics import CREDENTIALS, ENROLMENTS
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from shared.registry import REPO_ROOT
from shared.settings import ServiceSettings
from tests.conftest import ServiceFactory
from tests.contracts.examples import example_event
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import Record, header, wait_for, wait_until_caught_up
from tests.support.services import ServiceProcess

ISSUER = ServiceSettings(service_name="enrolment").oidc_issuer
ENROLMENT_SOURCE = "urn:alliance:service:enrolment"


def _bearer(subject: str, role: Role = "learner", partner_id: str | None = None) -> dict[str, str]:
    token = issue_token(ISSUER, TokenRequest(subject=subject, role=role, partner_id=partner_id))
    return {"Authorization": f"Bearer {token}"}


def _learner(name: str) -> tuple[dict[str, str], str]:
    """A new learner's request headers and the pseudonymous id the service knows them by."""
    subject = f"{name}-{uuid.uuid4().hex[:8]}"
    return _bearer(subject), learner_id_for(ISSUER, subject)


STAFF = {
    partner: _bearer(f"staff-{partner}", "partner_staff", partner)
    for partner in ("valdemora", "nordhavn")
}


async def _started(service_process: ServiceFactory) -> ServiceProcess:
    enrolment = await service_process("enrolment")
    enrolment.start()
    return enrolment


async def _publish_and_await(
    infra: Infrastructure, client: httpx.AsyncClient, offering: OfferingPublished
) -> None:
    """Publishes as the teaching partner, then polls until enrolment knows the offering."""
    async with PartnerSystem(
        infra.kafka_bootstrap_servers, demo_signer(offering.partner_id)
    ) as partner:
        await partner.publish(offering)
    url = f"/offerings/{offering.offering_id}/enrolments"
    deadline = time.monotonic() + 60
    while (
        response := await client.get(url, headers=STAFF[offering.partner_id])
    ).status_code == 404:
        assert time.monotonic() < deadline, "enrolment never learnt of the offering"
        await asyncio.sleep(0.2)
    assert response.status_code == 200, response.text


def _payloads(records: list[Record], offering_id: str) -> list[tuple[str, dict[str, Any], Record]]:
    """(event name, payload, record) of the enrolment events about one offering."""
    found = []
    for record in records:
        payload = json.loads(record.value)
        if payload.get("offering_id") == offering_id:
            name = str(header(record, "ce_type")).split(".")[3]
            found.append((name, payload, record))
    return found


async def _enrolment_events(
    infra: Infrastructure, offering_id: str, expected: Counter[str]
) -> list[tuple[str, dict[str, Any], Record]]:
    def complete(records: list[Record]) -> bool:
        seen = Counter(name for name, _, _ in _payloads(records, offering_id))
        return all(seen[name] >= count for name, count in expected.items())

    records = await wait_for(infra.kafka_bootstrap_servers, ENROLMENTS, complete)
    return _payloads(records, offering_id)


async def test_twenty_learners_race_for_five_seats_and_a_withdrawal_promotes_the_first_waiting(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    enrolment = await _started(service_process)
    offering = offering_published("valdemora", capacity=5)
    learners = [_learner(f"racer{n}")[0] for n in range(20)]
    async with httpx.AsyncClient(base_url=enrolment.url, timeout=30) as client:
        await _publish_and_await(infra, client, offering)
        responses = await asyncio.gather(
            *(
                client.post("/enrolments", json={"offering_id": offering.offering_id}, headers=h)
                for h in learners
            )
        )
        assert [r.status_code for r in responses] == [201] * 20, enrolment.log_tail()
        answers = [r.json() for r in responses]
        assert [a["status"] for a in answers].count("accepted") == 5
        waiting = sorted(
            (a for a in answers if a["status"] == "waitlisted"), key=lambda a: a["position"]
        )
        assert [a["position"] for a in waiting] == list(range(1, 16))

        events = await _enrolment_events(
            infra, offering.offering_id, Counter(requested=20, accepted=5, waitlisted=15)
        )
        assert Counter(name for name, _, _ in events) == Counter(
            requested=20, accepted=5, waitlisted=15
        )
        by_id = {a["enrolment_id"]: a for a in answers}
        for name, payload, record in events:
            assert header(record, "ce_source") == ENROLMENT_SOURCE
            assert record.key == payload["learner_id"].encode()
            assert payload["partner_id"] == "valdemora"
            if name != "requested":
                assert by_id[payload["enrolment_id"]]["status"] == name
            if name == "waitlisted":
                assert payload["position"] == by_id[payload["enrolment_id"]]["position"]

        seated = next(i for i, a in enumerate(answers) if a["status"] == "accepted")
        seat = answers[seated]
        first, second = waiting[0], waiting[1]
        first_headers = learners[answers.index(first)]

        # Another learner can neither read nor withdraw it: the id is not even confirmed.
        stranger = first_headers
        assert (
            await client.get(f"/enrolments/{seat['enrolment_id']}", headers=stranger)
        ).status_code == 404
        refused = await client.delete(f"/enrolments/{seat['enrolment_id']}", headers=stranger)
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
        mine = await client.get(f"/enrolments/{seat['enrolment_id']}", headers=learners[seated])
        assert mine.json()["status"] == "accepted"
        own = await client.get("/enrolments", headers=learners[seated])
        assert [e["enrolment_id"] for e in own.json()] == [seat["enrolment_id"]]
        assert (await client.get("/enrolments")).status_code == 401

        again = await client.post(
            "/enrolments", json={"offering_id": offering.offering_id}, headers=learners[seated]
        )
        assert again.status_code == 409

        withdrawn = await client.delete(
            f"/enrolments/{seat['enrolment_id']}", headers=learners[seated]
        )
        assert withdrawn.status_code == 200
        assert withdrawn.json()["status"] == "withdrawn"
        promoted = await client.get(f"/enrolments/{first['enrolment_id']}", headers=first_headers)
        assert promoted.json()["status"] == "accepted"
        moved_up = await client.get(
            f"/enrolments/{second['enrolment_id']}", headers=learners[answers.index(second)]
        )
        assert moved_up.json()["position"] == 1

        roster = await client.get(
            f"/offerings/{offering.offering_id}/enrolments", headers=STAFF["valdemora"]
        )
        assert Counter(e["status"] for e in roster.json()) == Counter(
            accepted=5, waitlisted=14, withdrawn=1
        )
        for outsider in (STAFF["nordhavn"], first_headers):
            listed = await client.get(
                f"/offerings/{offering.offering_id}/enrolments", headers=outsider
            )
            assert listed.status_code == 403

    after = await _enrolment_events(
        infra, offering.offering_id, Counter(requested=20, accepted=6, waitlisted=15, withdrawn=1)
    )
    accepted_ids = {p["enrolment_id"] for name, p, _ in after if name == "accepted"}
    seated_ids = {a["enrolment_id"] for a in answers if a["status"] == "accepted"}
    assert accepted_ids == seated_ids | {first["enrolment_id"]}
    assert [p["enrolment_id"] for name, p, _ in after if name == "withdrawn"] == [
        seat["enrolment_id"]
    ]


def _credential(learner_id: str, offering_id: str) -> CredentialIssued:
    template = example_event("credential.issued")
    assert isinstance(template, CredentialIssued)
    return template.model_copy(
        update={
            "credential_id": f"cred-it-{uuid.uuid4().hex[:12]}",
            "learner_id": learner_id,
            "offering_id": offering_id,
            "awarding_partner_id": offering_id.split("-")[1],
        }
    )


def _revocation(issued: CredentialIssued) -> CredentialRevoked:
    template = example_event("credential.revoked")
    assert isinstance(template, CredentialRevoked)
    return template.model_copy(
        update={
            "credential_id": issued.credential_id,
            "learner_id": issued.learner_id,
            "awarding_partner_id": issued.awarding_partner_id,
            "revoked_at": dt.datetime.now(dt.UTC),
        }
    )


async def test_prerequisites_are_met_by_a_credential_from_another_partner_until_revoked(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    enrolment = await _started(service_process)
    required = f"off-nordhavn-intro-{uuid.uuid4().hex[:8]}"
    offering = offering_published(
        "valdemora",
        prerequisites=Prerequisites(
            description={"en": "Introduction to Data Science (nordhavn)."},
            required_offering_ids=(required,),
        ),
    )
    (holder, holder_id), (revoked_holder, revoked_holder_id) = (
        _learner("holder"),
        _learner("revoked"),
    )
    enrol = {"offering_id": offering.offering_id}
    async with httpx.AsyncClient(base_url=enrolment.url, timeout=30) as client:
        await _publish_and_await(infra, client, offering)
        refused = await client.post("/enrolments", json=enrol, headers=holder)
        assert refused.status_code == 201
        assert refused.json()["status"] == "rejected"
        assert refused.json()["reason"] == "prerequisites_not_met"
        assert required in refused.json()["detail"]

        issuance = EventSigner.from_pem_file(
            "urn:alliance:service:issuance",
            "issuance-2026-1",
            REPO_ROOT / "alliance" / "demo-secrets" / "issuance.pem",
        )
        later_revoked = _credential(revoked_holder_id, required)
        async with PartnerSystem(infra.kafka_bootstrap_servers, issuance) as system:
            for event in (
                _credential(holder_id, required),
                later_revoked,
                _revocation(later_revoked),
            ):
                await system.send(CREDENTIALS, signed_event(issuance, event))
        await wait_until_caught_up(
            infra.kafka_bootstrap_servers, enrolment.env["CONSUMER_NAME"], CREDENTIALS
        )

        accepted = await client.post("/enrolments", json=enrol, headers=holder)
        assert accepted.status_code == 201
        assert accepted.json()["status"] == "accepted", accepted.json()
        still_refused = await client.post("/enrolments", json=enrol, headers=revoked_holder)
        assert still_refused.json()["reason"] == "prerequisites_not_met"

        unknown = await client.post(
            "/enrolments", json={"offering_id": "off-nowhere-0000"}, headers=holder
        )
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
