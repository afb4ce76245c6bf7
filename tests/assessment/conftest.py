"""An assessment service running as its own process, and an alliance around it that knows one
rheinfeld offering and one learner enrolled in it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared.auth import learner_id_for
from shared.events import (
    EnrolmentAccepted,
    EnrolmentWithdrawn,
    Grade,
    OfferingPublished,
    Outcome,
    ResultSubmitted,
)
from shared.events.topics import ENROLMENTS, OFFERINGS
from shared.events.vocabulary import AssessmentType, SupervisionAndIdentityVerification
from shared.partner_system import PartnerSystem, demo_signer
from tests.conftest import ServiceFactory
from tests.support.builders import offering_published
from tests.support.identities import (  # re-exported for this folder's tests
    ISSUER as ISSUER,
    new_id as new_id,
    service_signer as service_signer,
    token as token,
)
from tests.support.infra import Infrastructure
from tests.support.kafka import wait_until_caught_up
from tests.support.services import ServiceProcess

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
        "result_id": new_id("res"),
        "enrolment_id": enrolment.enrolment_id,
        "offering_id": enrolment.offering_id,
        "partner_id": enrolment.partner_id,
        "learner_id": enrolment.learner_id,
        "outcome": Outcome.PASSED,
        "grade": Grade(value="1,7", scheme="de-1-5", normalised=82.5),
        "assessment_type": AssessmentType.PROJECT_WORK,
        "supervision_and_identity_verification": (
            SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
        ),
        "assessed_on": dt.date(2026, 6, 27),
        "submitted_at": dt.datetime.now(dt.UTC),
        **changes,
    }
    return ResultSubmitted(**fields)


def accepted_enrolment(offering_id: str, learner_subject: str) -> EnrolmentAccepted:
    return EnrolmentAccepted(
        enrolment_id=new_id("enr"),
        offering_id=offering_id,
        partner_id=TEACHER,
        learner_id=learner_id_for(ISSUER, learner_subject),
        accepted_at=dt.datetime.now(dt.UTC),
    )


@dataclass
class Alliance:
    """The running service, its Kafka, and what the alliance has told it so far."""

    infra: Infrastructure
    service: ServiceProcess
    offering: OfferingPublished
    learner_subject: str
    enrolment: EnrolmentAccepted

    @property
    def bootstrap(self) -> str:
        return self.infra.kafka_bootstrap_servers

    @property
    def consumer(self) -> str:
        return self.service.env["CONSUMER_NAME"]

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.service.url, timeout=10)

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
    # A short retry budget for transient failures while a fresh consumer group replays the
    # session's earlier events (a submission that overtakes its enrolment waits instead).
    service = await service_process(
        "assessment",
        CONSUMER_MAX_ATTEMPTS="3",
        CONSUMER_BACKOFF_INITIAL_S="0.01",
        CONSUMER_BACKOFF_MAX_S="0.05",
    )
    service.start()
    offering = offering_published(TEACHER)
    async with PartnerSystem(infra.kafka_bootstrap_servers, demo_signer(TEACHER)) as partner:
        await partner.publish(offering)
    await wait_until_caught_up(
        infra.kafka_bootstrap_servers, service.env["CONSUMER_NAME"], OFFERINGS
    )
    learner_subject = new_id("learner")
    enrolment = accepted_enrolment(offering.offering_id, learner_subject)
    alliance = Alliance(infra, service, offering, learner_subject, enrolment)
    await alliance.announce(enrolment)
    return alliance
