"""What a recorded result and a completed pathway cost issuance's database, pinned (on
SQLite): what each reads of the credentials (with a few status list indexes) in one statement,
the offering's terms once, the credential written once; and a status index drawn without
reading every index used."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container

import pytest
from sqlmodel import col, select

from services.issuance import application, repository
from services.issuance.application import CredentialService
from services.issuance.domain import Credential
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.clock import utc_now
from shared.credentials import random_status_index
from shared.db.outbox import OutboxMessage
from shared.events import OfferingPublished, OfferingUpdated
from shared.events.pathways import PathwayCompleted
from tests.issuance.conftest import OPERATOR, Units, credential_service, passed_result
from tests.support.builders import offering_published
from tests.support.identities import new_id
from tests.support.statements import committed_statements


async def _issuing_for_an_offering(
    units_of_work: Units,
) -> tuple[CredentialService, OfferingPublished]:
    """The credential service, and an offering whose terms issuance has recorded."""
    offering = offering_published("rheinfeld")
    await committed_statements(
        units_of_work, lambda u: application.apply_offering_event(u, offering)
    )
    return credential_service(), offering


async def test_a_passed_result_reads_each_fact_once_and_writes_the_credential_once(
    units_of_work: Units,
) -> None:
    service, offering = await _issuing_for_an_offering(units_of_work)
    result = passed_result(offering, new_id("lrn"))
    assert await committed_statements(units_of_work, lambda u: service.on_result(u, result)) == [
        # The enrolment's (by the learner's index), and whether a few random status indexes
        # are taken, in one read.
        "SELECT credentials",
        "SELECT offering_terms",
        # A concurrent issuance makes it write nothing: a lost race, not a failed transaction.
        "INSERT credentials",
        "INSERT outbox",
    ]
    # The same result again is done: one read.
    assert await committed_statements(units_of_work, lambda u: service.on_result(u, result)) == [
        "SELECT credentials"
    ]


async def test_a_completed_pathway_reads_its_components_and_the_current_stacked_one_at_once(
    units_of_work: Units,
) -> None:
    service, offering = await _issuing_for_an_offering(units_of_work)
    learner_id = new_id("lrn")
    results = [passed_result(offering, learner_id) for _ in range(2)]

    async def both_results(uow: IssuanceUnitOfWork) -> None:
        for result in results:
            await service.on_result(uow, result)

    await committed_statements(units_of_work, both_results)
    async with units_of_work() as uow:
        components = tuple(
            [
                c.credential_id
                for r in results
                for c in await uow.credentials.of_learner(learner_id)
                if c.enrolment_id == r.enrolment_id
            ]
        )
    completed = PathwayCompleted(
        pathway_id=new_id("pth"),
        pathway_version=1,
        owner_partner_id="valdemora",
        learner_id=learner_id,
        title={"en": "Responsible AI (test)"},
        component_credential_ids=components,
        ects_earned=10,
        completed_at=utc_now(),
    )
    assert await committed_statements(
        units_of_work, lambda u: service.on_pathway_completed(u, completed)
    ) == [
        # The components, the pathway's current one and whether a few random status indexes
        # are taken, in one read.
        "SELECT credentials",
        "INSERT credentials",
        "INSERT credential_components",
        "INSERT outbox",
    ]
    # The same completion again is done: the read, and the current one's components.
    assert await committed_statements(
        units_of_work, lambda u: service.on_pathway_completed(u, completed)
    ) == ["SELECT credentials", "SELECT credential_components"]


async def test_when_every_drawn_index_is_taken_the_used_ones_are_read(
    units_of_work: Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = 7

    def drawing_the_taken_one(used: Container[int], length: int = 131_072) -> int:
        # The candidates (drawn with nothing excluded) are all the taken index.
        return taken if used == () else random_status_index(used, length)

    monkeypatch.setattr(repository, "random_status_index", drawing_the_taken_one)
    credential = Credential(
        credential_id=new_id("cred"),
        basis="vc-api",
        issuer_partner_id=OPERATOR,
        awarding_partner_id=OPERATOR,
        status_list_index=taken,
        document="{}",
        issued_at=utc_now(),
    )
    async with units_of_work() as uow:
        assert await uow.credentials.add(credential)
        await uow.commit()
    drawn: list[int] = []

    async def draw(uow: IssuanceUnitOfWork) -> None:
        drawn.append(await uow.credentials.free_status_index(OPERATOR))
        # The same when the candidates are read with a result's or a pathway's credentials.
        drawn.append((await uow.credentials.for_result(new_id("enr"), "lrn", OPERATOR))[1])
        stacking = await uow.credentials.for_stacking("lrn", "pth", ["cred"], OPERATOR)
        drawn.append(stacking.status_index)

    assert await committed_statements(units_of_work, draw) == ["SELECT credentials"] * 6
    assert taken not in drawn


async def test_results_of_one_run_each_see_what_the_one_before_changed(
    units_of_work: Units,
) -> None:
    """A run of events shares one unit of work: a correction's revocation (a statement, not
    a record in the session) is what the next correction finds."""
    service, offering = await _issuing_for_an_offering(units_of_work)
    first = passed_result(offering, new_id("lrn"))
    second = passed_result(
        offering,
        first.learner_id,
        enrolment_id=first.enrolment_id,
        supersedes_result_id=first.result_id,
    )
    third = passed_result(
        offering,
        first.learner_id,
        enrolment_id=first.enrolment_id,
        supersedes_result_id=second.result_id,
    )
    async with units_of_work() as uow:
        for result in (first, second, third):
            await service.on_result(uow, result)
        await uow.commit()
    async with units_of_work() as uow:
        issued = [
            c
            for c in await uow.credentials.of_learner(first.learner_id)
            if c.enrolment_id == first.enrolment_id
        ]
        announced = await uow.session.exec(select(col(OutboxMessage.event_type)))
        kinds = Counter(announced.all())
    current = [c.result_id for c in issued if c.revoked_at is None]
    assert current == [third.result_id]
    assert len(issued) == 3
    # Each replaced credential revoked once, not again by a correction that read it stale.
    assert kinds["eu.alliance.credential.revoked.v1"] == 2
    assert kinds["eu.alliance.credential.issued.v1"] == 3


async def test_results_of_one_batch_read_their_offerings_terms_once(units_of_work: Units) -> None:
    """The terms are read and parsed once per unit of work, and again once new terms for
    the offering are saved in it."""
    service, offering = await _issuing_for_an_offering(units_of_work)
    updated = OfferingUpdated.model_validate(
        {
            **offering.model_dump(exclude={"published_at"}),
            "version": 2,
            "updated_at": offering.published_at,
        }
    )
    versions: list[int] = []

    async def batch(uow: IssuanceUnitOfWork) -> None:
        for _ in range(3):
            await service.on_result(uow, passed_result(offering, new_id("lrn")))
        await application.apply_offering_event(uow, updated)
        terms = await uow.offering_terms.get(offering.offering_id)
        assert terms is not None
        versions.append(terms.version)

    statements = await committed_statements(units_of_work, batch)
    assert statements.count("INSERT credentials") == 3
    assert statements.count("SELECT offering_terms") == 2
    assert versions == [2]
