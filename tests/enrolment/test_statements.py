"""What a credential event and a request for a place cost enrolment's database, pinned (on
SQLite): the credentials of a batch of events written with one statement at its commit; a
request decided on one read and the offering's lock, and written with one statement."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from services.enrolment import application
from services.enrolment.domain import Enrolment
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.db.uow import UnitOfWorkFactory
from shared.events import CredentialIssued
from tests.contracts.examples import example_event
from tests.support.builders import offering_published
from tests.support.identities import new_id
from tests.support.sqlite import migrated_sqlite
from tests.support.statements import committed_statements

Units = UnitOfWorkFactory[EnrolmentUnitOfWork]


@pytest.fixture
async def units_of_work(tmp_path: Path) -> AsyncIterator[Units]:
    async with migrated_sqlite(tmp_path, "enrolment", EnrolmentUnitOfWork) as units_of_work:
        yield units_of_work


async def test_a_credential_event_is_one_write(units_of_work: Units) -> None:
    issued = example_event("credential.issued")
    assert isinstance(issued, CredentialIssued)
    assert await committed_statements(
        units_of_work, lambda u: application.record_credential_issued(u, issued)
    ) == ["INSERT earned_credentials"]
    assert await committed_statements(
        units_of_work,
        lambda u: application.record_credential_status(
            u, issued.credential_id, issued.learner_id, suspended=True
        ),
    ) == ["SELECT earned_credentials", "UPDATE earned_credentials"]
    async with units_of_work() as uow:
        held = await uow.earned_credentials.get(issued.credential_id)
    assert held is not None
    assert (held.offering_id, held.suspended) == (issued.offering_id, True)


async def test_a_batch_of_credential_events_is_one_write_at_its_commit(
    units_of_work: Units,
) -> None:
    """The issuances are kept until the commit; a read of what they hold writes them first."""
    example = example_event("credential.issued")
    assert isinstance(example, CredentialIssued)
    first, second, third = (
        example.model_copy(update={"credential_id": new_id("cred"), "offering_id": new_id("off")})
        for _ in range(3)
    )

    async def batch(uow: EnrolmentUnitOfWork) -> None:
        for issued in (first, second):
            await application.record_credential_issued(uow, issued)
        await application.record_credential_status(
            uow, first.credential_id, first.learner_id, revoked=True
        )
        await application.record_credential_issued(uow, third)

    assert await committed_statements(units_of_work, batch) == [
        "INSERT earned_credentials",
        "SELECT earned_credentials",
        "UPDATE earned_credentials",
        "INSERT earned_credentials",
    ]
    async with units_of_work() as uow:
        held = [await uow.earned_credentials.get(e.credential_id) for e in (first, second, third)]
    assert [(h.offering_id, h.revoked) if h else None for h in held] == [
        (first.offering_id, True),
        (second.offering_id, False),
        (third.offering_id, False),
    ]


@pytest.mark.parametrize("status", [{"revoked": True}, {"suspended": True}])
async def test_a_status_that_came_before_the_issuance_stands(
    units_of_work: Units, status: dict[str, bool]
) -> None:
    issued = example_event("credential.issued")
    assert isinstance(issued, CredentialIssued)
    async with units_of_work() as uow:
        await application.record_credential_status(
            uow, issued.credential_id, issued.learner_id, **status
        )
        await uow.commit()
    # The issuance finds the credential held: the same statement gives it its offering.
    assert await committed_statements(
        units_of_work, lambda u: application.record_credential_issued(u, issued)
    ) == ["INSERT earned_credentials"]
    async with units_of_work() as uow:
        held = await uow.earned_credentials.get(issued.credential_id)
    assert held is not None
    assert held.offering_id == issued.offering_id
    assert (held.revoked, held.suspended) == (
        status.get("revoked", False),
        status.get("suspended", False),
    )


async def test_a_request_is_one_read_the_lock_and_one_write(units_of_work: Units) -> None:
    offering = offering_published("rheinfeld", capacity=1)
    async with units_of_work() as uow:
        await application.apply_offering_event(uow, offering)
        await uow.commit()
    decided = [
        # The learner's own enrolment in the offering and their credentials, before the lock.
        "SELECT enrolments",
        # The offering's lock (SQLite's stand-in for FOR UPDATE, returning the row with its
        # seats).
        "UPDATE offerings",
        # A place in the queue takes its number in the insert itself.
        "INSERT enrolments",
        "INSERT outbox",
    ]

    def request(learner_id: str) -> Callable[[EnrolmentUnitOfWork], Awaitable[Enrolment]]:
        return lambda uow: application.request_enrolment(uow, learner_id, offering.offering_id)

    # A place, then a place in the queue.
    assert await committed_statements(units_of_work, request("lrn-ada-0001")) == decided
    assert await committed_statements(units_of_work, request("lrn-bob-0002")) == decided
    async with units_of_work() as uow:
        roster = await uow.enrolments.of_offering(offering.offering_id)
    assert [(e.learner_id, e.status, e.position) for e in roster] == [
        ("lrn-ada-0001", "accepted", None),
        ("lrn-bob-0002", "waitlisted", 1),
    ]
