"""What a recorded result and a completed pathway cost issuance's database, pinned (on
SQLite): what each reads of the credentials (with a few status list indexes) in one statement
(a batch's results all in one, its completed pathways all in another), the offering's terms
once, the credentials of a batch written in one statement at its commit; and a status index
drawn without reading every index used. A credential that collides at the commit is a lost
race, on PostgreSQL too (`infra`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence

import pytest
from sqlmodel import col, select

from services.issuance import application, repository
from services.issuance.application import CredentialService
from services.issuance.domain import Credential
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.clock import utc_now
from shared.credentials import random_status_index
from shared.db.engine import session_factory
from shared.db.outbox import OutboxMessage
from shared.db.uow import UnitOfWorkFactory
from shared.errors import LostRace
from shared.events import OfferingPublished, OfferingUpdated, ResultRecorded
from shared.events.pathways import PathwayCompleted
from tests.conftest import MigratedEngine
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
        # Written at the commit, with any other the unit of work issued.
        "INSERT credentials",
        "INSERT outbox",
    ]
    # The same result again is done: one read.
    assert await committed_statements(units_of_work, lambda u: service.on_result(u, result)) == [
        "SELECT credentials"
    ]


async def _completed(
    units_of_work: Units, service: CredentialService, offering: OfferingPublished, components: int
) -> PathwayCompleted:
    """A learner's pathway completed with `components` credentials issued for their results."""
    learner_id = new_id("lrn")
    results = [passed_result(offering, learner_id) for _ in range(components)]

    async def issue(uow: IssuanceUnitOfWork) -> None:
        for result in results:
            await service.on_result(uow, result)

    await committed_statements(units_of_work, issue)
    return _completion(learner_id, new_id("pth"), await _issued_to(units_of_work, results[:1]))


def _completion(
    learner_id: str, pathway_id: str, components: Sequence[Credential]
) -> PathwayCompleted:
    return PathwayCompleted(
        pathway_id=pathway_id,
        pathway_version=1,
        owner_partner_id="valdemora",
        learner_id=learner_id,
        title={"en": "Responsible AI (test)"},
        component_credential_ids=tuple(c.credential_id for c in components),
        ects_earned=10,
        completed_at=utc_now(),
    )


async def test_a_completed_pathway_reads_its_components_and_the_current_stacked_one_at_once(
    units_of_work: Units,
) -> None:
    service, offering = await _issuing_for_an_offering(units_of_work)
    completed = await _completed(units_of_work, service, offering, 2)
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


async def test_the_completed_pathways_of_a_batch_are_read_in_one_statement(
    units_of_work: Units,
) -> None:
    service, offering = await _issuing_for_an_offering(units_of_work)
    completions = [await _completed(units_of_work, service, offering, 2) for _ in range(3)]

    async def batch(uow: IssuanceUnitOfWork) -> None:
        await service.events_coming(uow, [], completions)
        for completed in completions:
            await service.on_pathway_completed(uow, completed)

    assert await committed_statements(units_of_work, batch) == [
        "SELECT credentials",
        "INSERT credentials",
        "INSERT credential_components",
        "INSERT outbox",
    ]
    async with units_of_work() as uow:
        for completed in completions:
            stacked = [
                c
                for c in await uow.credentials.of_learner(completed.learner_id)
                if c.pathway_id == completed.pathway_id
            ]
            assert len(stacked) == 1
            assert await uow.credentials.components_of(stacked[0].credential_id) == set(
                completed.component_credential_ids
            )


async def test_a_completion_read_ahead_is_read_again_once_the_kept_credentials_are_written(
    units_of_work: Units,
) -> None:
    """Two completions of one pathway by one learner in a batch, each stacking other
    credentials, the first's stacked credential written in between (64 kept, or before a
    status change): the second reads again and finds it to revoke (read ahead, it would
    not, and two stacked credentials would be current)."""
    service, offering = await _issuing_for_an_offering(units_of_work)
    learner_id, pathway_id = new_id("lrn"), new_id("pth")
    results = [passed_result(offering, learner_id) for _ in range(3)]

    async def issue(uow: IssuanceUnitOfWork) -> None:
        for result in results:
            await service.on_result(uow, result)

    await committed_statements(units_of_work, issue)
    first, second, third = await _issued_to(units_of_work, results[:1])
    earlier, later = (
        _completion(learner_id, pathway_id, stacked)
        for stacked in ([first, second], [second, third])
    )
    async with units_of_work() as uow:
        await service.events_coming(uow, [], [earlier, later])
        await service.on_pathway_completed(uow, earlier)
        await uow.credentials.write_kept()
        await service.on_pathway_completed(uow, later)
        await uow.commit()
    async with units_of_work() as uow:
        stacked = [
            c
            for c in await uow.credentials.of_learner(learner_id)
            if c.pathway_id == pathway_id and c.revoked_at is None
        ]
        assert len(stacked) == 1
        assert await uow.credentials.components_of(stacked[0].credential_id) == {
            second.credential_id,
            third.credential_id,
        }


async def test_when_every_drawn_index_is_taken_the_used_ones_are_read(
    units_of_work: Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = 7

    def drawing_the_taken_one(used: Container[int], length: int = 131_072) -> int:
        # The candidates (drawn with nothing excluded) are all the taken index.
        return taken if used == () else random_status_index(used, length)

    monkeypatch.setattr(repository, "random_status_index", drawing_the_taken_one)
    async with units_of_work() as uow:
        await uow.credentials.add(_credential(taken))
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


@pytest.mark.parametrize("read_ahead", [False, True], ids=["each-read", "read-ahead"])
async def test_results_of_one_run_each_see_what_the_one_before_changed(
    units_of_work: Units, read_ahead: bool
) -> None:
    """A run of events shares one unit of work: a correction's revocation (a statement, not
    a record in the session) is what the next correction finds, also when the run's results
    were read ahead."""
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
        if read_ahead:
            await service.events_coming(uow, [first, second, third], [])
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
    assert statements.count("INSERT credentials") == 1  # the three, at the commit
    assert statements.count("SELECT offering_terms") == 2
    assert versions == [2]


async def test_the_credentials_of_a_batch_are_written_in_one_statement_at_its_commit(
    units_of_work: Units,
) -> None:
    """Each result of the batch is decided on what the ones before it issued, unwritten."""
    service, offering = await _issuing_for_an_offering(units_of_work)
    first = passed_result(offering, new_id("lrn"))
    other = passed_result(offering, new_id("lrn"))

    async def batch(uow: IssuanceUnitOfWork) -> None:
        # The first result twice (as on a redelivery under another event id): done the
        # second time, though its credential is not written yet.
        for result in (first, first, other):
            await service.on_result(uow, result)

    assert await committed_statements(units_of_work, batch) == [
        "SELECT credentials",
        "SELECT offering_terms",
        "SELECT credentials",
        "SELECT credentials",
        "INSERT credentials",
        "INSERT outbox",
    ]
    issued = await _issued_to(units_of_work, [first, other])
    assert sorted(c.result_id or "" for c in issued) == sorted([first.result_id, other.result_id])
    assert len({c.status_list_index for c in issued}) == 2


async def test_the_results_of_a_batch_are_read_in_one_statement(units_of_work: Units) -> None:
    """The consumer hands a run's results to issuance before applying them: what each is
    decided on comes in one read."""
    service, offering = await _issuing_for_an_offering(units_of_work)
    results = [passed_result(offering, new_id("lrn")) for _ in range(3)]

    async def batch(uow: IssuanceUnitOfWork) -> None:
        await service.events_coming(uow, results, [])
        for result in results:
            await service.on_result(uow, result)

    assert await committed_statements(units_of_work, batch) == [
        "SELECT credentials",
        "SELECT offering_terms",
        "INSERT credentials",
        "INSERT outbox",
    ]
    issued = await _issued_to(units_of_work, results)
    assert [(c.learner_id, c.enrolment_id, c.result_id) for c in issued] == [
        (r.learner_id, r.enrolment_id, r.result_id) for r in results
    ]
    assert len({c.status_list_index for c in issued}) == 3


async def test_a_result_read_ahead_is_read_again_once_the_kept_credentials_are_written(
    units_of_work: Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written (64 kept, or before a status change), the batch's credentials are no longer
    laid over what was read ahead: the next result reads again and sees the status index
    the first took (read ahead, it would draw it again, and the commit would collide)."""
    monkeypatch.setattr(repository, "_status_candidates", lambda: [5, 6])
    service, offering = await _issuing_for_an_offering(units_of_work)
    first, second = (passed_result(offering, new_id("lrn")) for _ in range(2))
    async with units_of_work() as uow:
        await service.events_coming(uow, [first, second], [])
        await service.on_result(uow, first)
        await uow.credentials.write_kept()
        await service.on_result(uow, second)
        await uow.commit()
    issued = await _issued_to(units_of_work, [first, second])
    assert {c.result_id: c.status_list_index for c in issued} == {
        first.result_id: 5,
        second.result_id: 6,
    }


async def _issued_to(units_of_work: Units, results: Sequence[ResultRecorded]) -> list[Credential]:
    """The credentials of the results' learners, learner by learner in the results' order."""
    async with units_of_work() as uow:
        return [
            c for result in results for c in await uow.credentials.of_learner(result.learner_id)
        ]


async def test_at_most_so_many_credentials_are_kept_unwritten(units_of_work: Units) -> None:
    """Each holds its signed document: a batch behind a backlog writes them as it goes."""
    kept_at_most = repository._KEPT_AT_MOST

    async def issue(uow: IssuanceUnitOfWork) -> None:
        for index in range(kept_at_most + 1):
            await uow.credentials.add(_credential(index))

    assert await committed_statements(units_of_work, issue) == ["INSERT credentials"] * 2


def _credential(index: int) -> Credential:
    return Credential(
        credential_id=new_id("cred"),
        basis="vc-api",
        issuer_partner_id=OPERATOR,
        awarding_partner_id=OPERATOR,
        status_list_index=index,
        document="{}",
        issued_at=utc_now(),
    )


async def _a_collision_at_the_commit(units_of_work: Units) -> None:
    """A concurrent issuance drew the same status index: nothing of the unit of work is
    written, and it is applied again (LostRace)."""

    async with units_of_work() as uow:
        await uow.credentials.add(_credential(11))
        await uow.commit()
    loser, fine = _credential(11), _credential(12)
    async with units_of_work() as uow:
        await uow.credentials.add(fine)
        await uow.credentials.add(loser)
        with pytest.raises(LostRace):
            await uow.commit()
    async with units_of_work() as uow:
        assert await uow.credentials.get(fine.credential_id) is None
        assert await uow.credentials.get(loser.credential_id) is None


async def test_a_credential_that_collides_at_the_commit_is_a_lost_race(
    units_of_work: Units,
) -> None:
    await _a_collision_at_the_commit(units_of_work)


async def test_a_credential_that_collides_at_the_commit_is_a_lost_race_on_postgresql(
    migrated_engine: MigratedEngine,
) -> None:
    """The same on real PostgreSQL (`infra`), where the rows go as one array each."""
    engine = await migrated_engine("issuance")
    await _a_collision_at_the_commit(
        UnitOfWorkFactory(IssuanceUnitOfWork, session_factory(engine), "urn:test:issuance")
    )
