"""Requests, withdrawals and offering changes end to end through the database, on SQLite
(the zero-setup fallback, where writers are serialised instead of rows locked).

The same flows run on PostgreSQL with the real broker in test_service.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from services.enrolment import handlers
from services.enrolment.application import request_enrolment, withdraw_enrolment
from services.enrolment.domain import AlreadyEnrolled, Enrolment, EnrolmentNotFound, EnrolmentStatus
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.db.outbox import OutboxMessage
from shared.db.uow import UnitOfWorkFactory
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    OfferingPublished,
    OfferingUpdated,
    Prerequisites,
)
from shared.offering_views import OfferingEvent
from tests.contracts.examples import example_event, stacked_credential_issued
from tests.support.builders import offering_published, offering_withdrawn
from tests.support.sqlite import deliver_offering, migrated_sqlite

PREREQUISITE = "off-nordhavn-intro-data-science"


@pytest.fixture
async def units_of_work(tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory[EnrolmentUnitOfWork]]:
    async with migrated_sqlite(tmp_path, "enrolment", EnrolmentUnitOfWork) as units_of_work:
        yield units_of_work


def _learner(n: int) -> str:
    return f"lrn-sqlite-{n:04d}"


async def _deliver(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork], event: OfferingEvent
) -> None:
    await deliver_offering(units_of_work, handlers.on_offering, event)


async def _credential(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
    event: CredentialIssued | CredentialRevoked | CredentialSuspended | CredentialReinstated,
) -> None:
    async with units_of_work() as uow:
        match event:
            case CredentialIssued():
                await handlers.on_credential_issued(event, None, uow)  # type: ignore[arg-type]
            case CredentialRevoked():
                await handlers.on_credential_revoked(event, None, uow)  # type: ignore[arg-type]
            case CredentialSuspended():
                await handlers.on_credential_suspended(event, None, uow)  # type: ignore[arg-type]
            case CredentialReinstated():
                await handlers.on_credential_reinstated(event, None, uow)  # type: ignore[arg-type]
        await uow.commit()


async def _enrol(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork], learner_id: str, offering_id: str
) -> Enrolment:
    async with units_of_work() as uow:
        enrolment = await request_enrolment(uow, learner_id, offering_id)
        await uow.commit()
    return enrolment


async def _roster(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork], offering_id: str
) -> list[Enrolment]:
    async with units_of_work() as uow:
        return await uow.enrolments.of_offering(offering_id)


async def _events(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
) -> list[tuple[str, dict[str, object]]]:
    # The outbox is the runtime's table, not a repository of enrolment's.
    async with units_of_work() as uow:
        rows = await uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))
        return [(r.event_type.split(".")[3], json.loads(r.payload)) for r in rows.all()]


async def _published(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork], capacity: int
) -> OfferingPublished:
    offering = offering_published("valdemora", capacity=capacity)
    await _deliver(units_of_work, offering)
    return offering


async def test_concurrent_requests_never_overbook(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
) -> None:
    offering = await _published(units_of_work, capacity=5)
    decided = await asyncio.gather(
        *(_enrol(units_of_work, _learner(n), offering.offering_id) for n in range(20))
    )
    statuses = [e.status for e in decided]
    assert statuses.count(EnrolmentStatus.ACCEPTED) == 5
    assert sorted(e.position for e in decided if e.position) == list(range(1, 16))
    roster = await _roster(units_of_work, offering.offering_id)
    assert [e.position for e in roster if e.status is EnrolmentStatus.WAITLISTED] == list(
        range(1, 16)
    )


async def test_a_withdrawal_promotes_the_first_in_line_and_the_queue_moves_up(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
) -> None:
    offering = await _published(units_of_work, capacity=1)
    seated, first, second = [
        await _enrol(units_of_work, _learner(n), offering.offering_id) for n in range(3)
    ]
    assert (first.position, second.position) == (1, 2)
    with pytest.raises(EnrolmentNotFound):
        async with units_of_work() as uow:
            await withdraw_enrolment(uow, first.learner_id, seated.enrolment_id)

    async with units_of_work() as uow:
        withdrawn = await withdraw_enrolment(uow, seated.learner_id, seated.enrolment_id)
        await uow.commit()
    assert withdrawn.status is EnrolmentStatus.WITHDRAWN
    roster = {e.enrolment_id: e for e in await _roster(units_of_work, offering.offering_id)}
    assert roster[first.enrolment_id].status is EnrolmentStatus.ACCEPTED
    assert roster[second.enrolment_id].position == 1
    events = await _events(units_of_work)
    assert [name for name, _ in events[-2:]] == ["withdrawn", "accepted"]
    assert events[-1][1]["enrolment_id"] == first.enrolment_id


async def test_more_capacity_promotes_waiting_learners_in_order(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
) -> None:
    offering = await _published(units_of_work, capacity=1)
    enrolled = [await _enrol(units_of_work, _learner(n), offering.offering_id) for n in range(4)]
    updated = OfferingUpdated(
        **offering.model_dump(exclude={"published_at", "version", "capacity"}),
        version=2,
        capacity=3,
        updated_at=dt.datetime.now(dt.UTC),
    )
    await _deliver(units_of_work, updated)
    roster = {e.enrolment_id: e for e in await _roster(units_of_work, offering.offering_id)}
    assert [roster[e.enrolment_id].status for e in enrolled] == [
        EnrolmentStatus.ACCEPTED,
        EnrolmentStatus.ACCEPTED,
        EnrolmentStatus.ACCEPTED,
        EnrolmentStatus.WAITLISTED,
    ]
    assert roster[enrolled[3].enrolment_id].position == 1


async def test_a_withdrawn_offering_rejects_the_waiting_list_and_new_requests(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
) -> None:
    offering = await _published(units_of_work, capacity=1)
    seated, waiting = [
        await _enrol(units_of_work, _learner(n), offering.offering_id) for n in range(2)
    ]
    await _deliver(units_of_work, offering_withdrawn(offering, version=2))
    roster = {e.enrolment_id: e for e in await _roster(units_of_work, offering.offering_id)}
    assert roster[seated.enrolment_id].status is EnrolmentStatus.ACCEPTED
    assert roster[waiting.enrolment_id].status is EnrolmentStatus.REJECTED
    assert roster[waiting.enrolment_id].reason == "offering_withdrawn"
    late = await _enrol(units_of_work, _learner(9), offering.offering_id)
    assert (late.status, late.reason) == (EnrolmentStatus.REJECTED, "offering_withdrawn")
    rejected = [p for name, p in await _events(units_of_work) if name == "rejected"]
    assert {p["enrolment_id"] for p in rejected} == {waiting.enrolment_id, late.enrolment_id}


async def test_prerequisites_follow_issued_and_revoked_credentials(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
) -> None:
    offering = offering_published(
        "valdemora",
        prerequisites=Prerequisites(
            description={"en": "Intro first."}, required_offering_ids=(PREREQUISITE,)
        ),
    )
    await _deliver(units_of_work, offering)
    learner = _learner(1)
    template = example_event("credential.issued")
    assert isinstance(template, CredentialIssued)
    # A stacked credential names a pathway, not an offering: it meets no prerequisite.
    stacked = stacked_credential_issued().model_copy(update={"learner_id": learner})
    await _credential(units_of_work, stacked)
    refused = await _enrol(units_of_work, learner, offering.offering_id)
    assert refused.reason == "prerequisites_not_met"

    issued = template.model_copy(
        update={
            "credential_id": "cred-nordhavn-sqlite-1",
            "learner_id": learner,
            "offering_id": PREREQUISITE,
        }
    )
    await _credential(units_of_work, issued)
    accepted = await _enrol(units_of_work, learner, offering.offering_id)
    assert accepted.status is EnrolmentStatus.ACCEPTED
    with pytest.raises(AlreadyEnrolled):
        await _enrol(units_of_work, learner, offering.offering_id)

    other = _learner(2)
    await _credential(
        units_of_work,
        issued.model_copy(update={"credential_id": "cred-nordhavn-sqlite-2", "learner_id": other}),
    )
    revocation = example_event("credential.revoked")
    assert isinstance(revocation, CredentialRevoked)
    await _credential(
        units_of_work,
        revocation.model_copy(
            update={"credential_id": "cred-nordhavn-sqlite-2", "learner_id": other}
        ),
    )
    after_revocation = await _enrol(units_of_work, other, offering.offering_id)
    assert after_revocation.reason == "prerequisites_not_met"


async def test_a_suspended_prerequisite_counts_again_once_reinstated(
    units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork],
) -> None:
    offering = offering_published(
        "valdemora",
        prerequisites=Prerequisites(
            description={"en": "Intro first."}, required_offering_ids=(PREREQUISITE,)
        ),
    )
    await _deliver(units_of_work, offering)
    learner, credential_id = _learner(3), "cred-nordhavn-sqlite-3"
    mine = {"credential_id": credential_id, "learner_id": learner}
    issued = example_event("credential.issued")
    suspended = example_event("credential.suspended")
    reinstated = example_event("credential.reinstated")
    assert isinstance(issued, CredentialIssued)
    assert isinstance(suspended, CredentialSuspended)
    assert isinstance(reinstated, CredentialReinstated)
    await _credential(
        units_of_work, issued.model_copy(update={**mine, "offering_id": PREREQUISITE})
    )
    await _credential(units_of_work, suspended.model_copy(update=mine))
    while_suspended = await _enrol(units_of_work, learner, offering.offering_id)
    assert while_suspended.reason == "prerequisites_not_met"
    await _credential(units_of_work, reinstated.model_copy(update=mine))
    again = await _enrol(units_of_work, learner, offering.offering_id)
    assert again.status is EnrolmentStatus.ACCEPTED
