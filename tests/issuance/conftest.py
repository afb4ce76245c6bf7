"""An issuance service running as its own process, and the alliance around it: a rheinfeld
offering (awarded by rheinfeld, so issued by nordhavn by mandate) and a learner to pass it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import pytest
from pydantic import BaseModel

from services.issuance.application import CredentialService
from services.issuance.keys import CredentialKeys
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.auth import learner_id_for
from shared.db.engine import driver_dsn
from shared.db.uow import UnitOfWorkFactory
from shared.envelope import CloudEvent
from shared.events import Grade, OfferingPublished, Outcome, ResultRecorded, spec_for_model
from shared.events.vocabulary import AssessmentType, SupervisionAndIdentityVerification
from shared.partner_system import PartnerSystem, signed_event
from shared.registry import REPO_ROOT
from tests.conftest import ServiceFactory
from tests.support.builders import REGISTRY, offering_published
from tests.support.identities import (  # re-exported for this folder's tests
    ISSUER as ISSUER,
    new_id as new_id,
    service_signer as service_signer,
    staff as staff,
    token as token,
)
from tests.support.infra import Infrastructure
from tests.support.services import SHORT_RETRIES, ServiceUnderTest, publish_offering
from tests.support.sqlite import migrated_sqlite

TEACHER = "rheinfeld"
OPERATOR = "nordhavn"


Units = UnitOfWorkFactory[IssuanceUnitOfWork]


@pytest.fixture
async def units_of_work(tmp_path: Path) -> AsyncIterator[Units]:
    """Issuance's units of work on a migrated SQLite database of the test's own."""
    async with migrated_sqlite(tmp_path, "issuance", IssuanceUnitOfWork) as units_of_work:
        yield units_of_work


def credential_service() -> CredentialService:
    """The issuance application on the demo keys, at the issuance service's local address."""
    base = "http://127.0.0.1:8004"
    keys = CredentialKeys.load(REPO_ROOT / "alliance" / "demo-secrets" / "credentials", base)
    return CredentialService(keys, REGISTRY, base, OPERATOR)


def passed_result(offering: OfferingPublished, learner_id: str, **changes: Any) -> ResultRecorded:
    fields: dict[str, Any] = {
        "result_id": new_id("res"),
        "enrolment_id": new_id("enr"),
        "offering_id": offering.offering_id,
        "partner_id": offering.partner_id,
        "learner_id": learner_id,
        "outcome": Outcome.PASSED,
        "grade": Grade(value="1,7", scheme="de-1-5", normalised=82.5),
        "assessment_type": AssessmentType.PROJECT_WORK,
        "supervision_and_identity_verification": (
            SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
        ),
        "assessed_on": dt.date(2026, 6, 27),
        "recorded_at": dt.datetime.now(dt.UTC),
        **changes,
    }
    return ResultRecorded(**fields)


@dataclass
class Alliance(ServiceUnderTest):
    offering: OfferingPublished
    api_timeout_s: ClassVar[float] = 15

    async def announce(self, service: str, event: BaseModel, times: int = 1) -> CloudEvent:
        """Publishes `event` signed by an alliance service, the same envelope `times` times
        (a redelivery has the same CloudEvents id)."""
        envelope = signed_event(service_signer(service), event)
        async with PartnerSystem(self.bootstrap, service_signer(service)) as sender:
            for _ in range(times):
                await sender.send(spec_for_model(type(event)).topic, envelope)
        return envelope

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        dsn = driver_dsn(self.service.env["DATABASE_URL"])
        conn = await asyncpg.connect(dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()


@pytest.fixture
async def alliance(infra: Infrastructure, service_process: ServiceFactory) -> Alliance:
    service = await service_process("issuance", CONSUMER_MAX_ATTEMPTS="2", **SHORT_RETRIES)
    service.start()
    offering = offering_published(TEACHER)
    await publish_offering(infra, service, offering)
    return Alliance(infra, service, offering)


def learner(subject: str | None = None) -> tuple[str, str]:
    """A learner's token subject and pseudonymous id."""
    subject = subject or new_id("learner")
    return subject, learner_id_for(ISSUER, subject)
