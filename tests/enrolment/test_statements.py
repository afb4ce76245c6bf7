"""What a credential event costs enrolment's database, pinned (on SQLite): the credential
read once and written with one statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.enrolment import application
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.db.uow import UnitOfWorkFactory
from shared.events import CredentialIssued
from tests.contracts.examples import example_event
from tests.support.sqlite import migrated_sqlite
from tests.support.statements import committed_statements

Units = UnitOfWorkFactory[EnrolmentUnitOfWork]


@pytest.fixture
async def units_of_work(tmp_path: Path) -> AsyncIterator[Units]:
    async with migrated_sqlite(tmp_path, "enrolment", EnrolmentUnitOfWork) as units_of_work:
        yield units_of_work


async def test_a_credential_event_is_one_read_and_one_write(units_of_work: Units) -> None:
    issued = example_event("credential.issued")
    assert isinstance(issued, CredentialIssued)
    assert await committed_statements(
        units_of_work, lambda u: application.record_credential_issued(u, issued)
    ) == ["SELECT earned_credentials", "INSERT earned_credentials"]
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
