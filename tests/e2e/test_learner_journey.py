"""The learner's journey across partners, end to end on the real broker (issue 3).

Four partners publish offerings (from their own systems and through the catalogue API). A
learner passes a course at nordhavn, which earns a credential that meets the prerequisite
of valdemora's course; seats at rheinfeld run out under concurrent enrolments and the
waiting list moves; valdemora's own system reports the result as an event and the learner
sees it; a result forged by another partner is refused.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from shared.auth import learner_id_for
from shared.events import Prerequisites, ResultSubmitted
from shared.messaging.dead_letter import dead_letter_topic
from shared.partner_system import PartnerSystem, demo_signer
from tests.e2e.conftest import ISSUER, Alliance, eventually, learner_headers, partner_headers
from tests.support.builders import offering_published, result_submitted
from tests.support.infra import Infrastructure
from tests.support.kafka import header, wait_for


def _result(enrolment: dict[str, Any], partner_id: str) -> ResultSubmitted:
    return result_submitted(
        enrolment["enrolment_id"], enrolment["offering_id"], partner_id, enrolment["learner_id"]
    )


async def test_a_learner_walks_from_search_to_passed_across_partners(
    alliance: Alliance, infra: Infrastructure
) -> None:
    bootstrap = infra.kafka_bootstrap_servers
    run = uuid.uuid4().hex[:6]
    intro = offering_published("nordhavn", title={"en": f"Intro to data {run}"}, capacity=10)
    advanced = offering_published(
        "valdemora",
        title={"en": f"Data ethics {run}"},
        capacity=10,
        prerequisites=Prerequisites(
            description={"en": "Intro to data (nordhavn)"},
            required_offering_ids=(intro.offering_id,),
        ),
    )
    lab = offering_published("rheinfeld", title={"en": f"Hydrogen lab {run}"}, capacity=3)
    energy = offering_published("vallombra", title={"en": f"Energy communities {run}"})
    for offering in (intro, advanced, energy):
        async with PartnerSystem(bootstrap, demo_signer(offering.partner_id)) as system:
            await system.publish(offering)

    async with alliance.client() as gateway:
        # rheinfeld publishes through the catalogue API instead of its own system.
        draft = lab.model_dump(mode="json", exclude={"version", "published_at"}, exclude_none=True)
        published = await gateway.post(
            f"{alliance.url('catalogue')}/offerings",
            json=draft,
            headers=partner_headers("rheinfeld"),
        )
        assert published.status_code == 202, published.text

        async def all_listed() -> bool:
            found = await gateway.get("/offerings", params={"q": run, "limit": 10})
            return found.status_code == 200 and found.json()["total"] == 4

        await eventually(all_listed, timeout_s=120, what="the four offerings in the search")

        # The prerequisite is not met yet (once enrolment has the offering in its own view).
        learner = learner_headers(f"ada-{run}")

        async def decided() -> Any:
            answer = await gateway.post(
                "/me/enrolments", json={"offering_id": advanced.offering_id}, headers=learner
            )
            return answer if answer.status_code != 404 else None

        early: Any = await eventually(decided, timeout_s=120, what="the offering at enrolment")
        assert early.status_code == 201, early.text
        assert early.json()["status"] == "rejected"
        assert early.json()["reason"] == "prerequisites_not_met"

        # Passing at nordhavn earns a credential that the enrolment service learns of.
        at_nordhavn = await gateway.post(
            "/me/enrolments", json={"offering_id": intro.offering_id}, headers=learner
        )
        assert at_nordhavn.json()["status"] == "accepted", at_nordhavn.text
        async with PartnerSystem(bootstrap, demo_signer("nordhavn")) as nordhavn:
            await nordhavn.publish(_result(at_nordhavn.json(), "nordhavn"))

        async def admitted() -> dict[str, Any] | None:
            answer = await gateway.post(
                "/me/enrolments", json={"offering_id": advanced.offering_id}, headers=learner
            )
            body: dict[str, Any] = answer.json()
            return body if body.get("status") == "accepted" else None

        at_valdemora: Any = await eventually(admitted, timeout_s=60, what="the prerequisite")

        # valdemora's own system reports the result; the learner sees it.
        valdemora_result = _result(at_valdemora, "valdemora")
        async with PartnerSystem(bootstrap, demo_signer("valdemora")) as valdemora:
            await valdemora.publish(valdemora_result)

        async def result_seen() -> bool:
            mine = await gateway.get("/me/results", headers=learner)
            return any(r["result_id"] == valdemora_result.result_id for r in mine.json()["items"])

        await eventually(result_seen, what="the result in the learner's view")

        # A result forged by rheinfeld for valdemora's course is refused with the reason.
        forged = _result(at_valdemora, "rheinfeld")
        async with PartnerSystem(bootstrap, demo_signer("rheinfeld")) as rheinfeld:
            forged_envelope = await rheinfeld.publish(forged)
        consumer = alliance.services["assessment"].env["CONSUMER_NAME"]
        parked = await wait_for(
            bootstrap,
            dead_letter_topic(consumer),
            lambda rs: any(header(r, "ce_id") == forged_envelope.id for r in rs),
        )
        record = next(r for r in parked if header(r, "ce_id") == forged_envelope.id)
        assert header(record, "dlq_reason") == "rejected"
        assert "not_teaching_partner" in str(header(record, "dlq_detail"))
        mine = await gateway.get("/me/results", headers=learner)
        assert forged.result_id not in {r["result_id"] for r in mine.json()["items"]}

        # Seats at rheinfeld run out under concurrent enrolments; the waiting list moves.
        learners = [learner_headers(f"lab-{run}-{i}") for i in range(8)]
        answers = await asyncio.gather(
            *(
                gateway.post("/me/enrolments", json={"offering_id": lab.offering_id}, headers=h)
                for h in learners
            )
        )
        statuses = [a.json()["status"] for a in answers]
        assert statuses.count("accepted") == 3, statuses
        assert sorted(a.json()["position"] for a in answers if a.json()["position"]) == [
            1,
            2,
            3,
            4,
            5,
        ]
        first_accepted = next(i for i, a in enumerate(answers) if a.json()["status"] == "accepted")
        first_waiting = next(i for i, a in enumerate(answers) if a.json()["position"] == 1)
        withdrawn = await gateway.delete(
            f"/me/enrolments/{answers[first_accepted].json()['enrolment_id']}",
            headers=learners[first_accepted],
        )
        assert withdrawn.status_code == 200, withdrawn.text
        promoted = await gateway.get(
            f"/me/enrolments/{answers[first_waiting].json()['enrolment_id']}",
            headers=learners[first_waiting],
        )
        assert promoted.json()["status"] == "accepted"

        # A learner sees only their own data.
        someone_else = await gateway.get(
            f"/me/enrolments/{at_valdemora['enrolment_id']}", headers=learners[0]
        )
        assert someone_else.status_code == 404
    assert at_valdemora["learner_id"] == learner_id_for(ISSUER, f"ada-{run}")
