"""An assessment service running as its own process, and an alliance around it that knows one
rheinfeld offering and one learner enrolled in it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from shared.auth import learner_id_for
from shared.events import (
    EnrolmentAccepted,
    EnrolmentWithdrawn,
    Grade,
    OfferingPublished,
    ResultSubmitted,
)
from shared.events.topics import ENROLMENTS
from shared.partner_system import PartnerSystem
from tests.conftest import ServiceFactory
from tests.support.builders import offering_published, result_submitted as build_result_submitted
from tests.support.identities import (  # re-exported for this folder's tests
    ISSUER as ISSUER,
    new_id as new_id,
    service_signer as service_signer,
    token as token,
)
from tests.support.infra import Infrastructure
from tests.support.kafka import wait_until_caught_up
from tests.support.services import SHORT_RETRIES, ServiceUnderTest, publish_offering

TEACHER = "rheinfeld"


def partner_token(partner_id: str) -> dict[str, str]:
    return token(f"sis-{partner_id}", "partner_system", partner_id)


def result_body(enrolment: EnrolmentAccepted, **changes: Any) -> dict[str, Any]:
    """A result as a partner's system sends it to the API (JSON)."""
    return {
        "enrolment_id": enrolment.enrolment_id,
        "offering_id": enrolment.offering_id,
        "learner_id": enrolment.learner_id,
        "outcome": "passed",
        "grade": {"value": "1,7", "scheme": "de-1-5", "normalised": 82.5},
        "assessment_type": "project_work",
        "supervision_and_identity_verification": "supervised_with_identity_verification",
        "assessed_on": "2026-06-27",
        **changes,
    }


def result_submitted(enrolment: EnrolmentAccepted, **changes: Any) -> ResultSubmitted:
    fields: dict[str, Any] = {
        "enrolment_id": enrolment.enrolment_id,
        "offering_id": enrolment.offering_id,
        "partner_id": enrolment.partner_id,
        "learner_id": enrolment.learner_id,
        "grade": Grade(value="1,7", scheme="de-1-5", normalised=82.5),
        "assessed_on": dt.date(2026, 6, 27),
        **changes,
    }
    return build_result_submitted(**fields)


def accepted_enrolment(offering_id: str, learner_subject: str) -> EnrolmentAccepted:
    return EnrolmentAccepted(
        enrolment_id=new_id("enr"),
        offering_id=offering_id,
        partner_id=TEACHER,
        learner_id=learner_id_for(ISSUER, learner_subject),
        accepted_at=dt.datetime.now(dt.UTC),
    )


@dataclass
class Alliance(ServiceUnderTest):
    """The running service, its Kafka, and what the alliance has told it so far."""

    offering: OfferingPublished
    learner_subject: str
    enrolment: EnrolmentAccepted

    async def enrol(self) -> EnrolmentAccepted:
        """Another learner accepted into the offering, as the enrolment service announces it."""
        accepted = accepted_enrolment(self.offering.offering_id, new_id("learner"))
        await self.announce(accepted)
        return accepted

    async def withdraw(self, enrolment: EnrolmentAccepted) -> None:
        await self.announce(
            EnrolmentWithdrawn(
                **enrolment.model_dump(exclude={"accepted_at"}),
                withdrawn_at=dt.datetime.now(dt.UTC),
            )
        )

    async def announce(self, event: EnrolmentAccepted | EnrolmentWithdrawn) -> None:
        async with PartnerSystem(self.bootstrap, service_signer("enrolment")) as enrolment:
            await enrolment.publish(event)
        # The tests that follow expect the enrolment applied before they submit.
        await wait_until_caught_up(self.bootstrap, self.consumer, ENROLMENTS)


@pytest.fixture
async def alliance(infra: Infrastructure, service_process: ServiceFactory) -> Alliance:
    # (A submission that overtakes its enrolment waits instead of being retried.)
    service = await service_process("assessment", CONSUMER_MAX_ATTEMPTS="3", **SHORT_RETRIES)
    service.start()
    offering = offering_published(TEACHER)
    await publish_offering(infra, service, offering)
    learner_subject = new_id("learner")
    enrolment = accepted_enrolment(offering.offering_id, learner_subject)
    alliance = Alliance(infra, service, offering, learner_subject, enrolment)
    await alliance.announce(enrolment)
    return alliance
