"""A status list made the first time it is asked for is valid from its issuer's first
credential: a verifier that took its moment before asking must not find the list "not valid
yet" (on SQLite)."""

from __future__ import annotations

from services.issuance import application
from services.issuance.domain import xsd_datetime
from shared.clock import utc_now
from shared.credentials.status_list import SUSPENSION
from tests.issuance.conftest import Units, credential_service, passed_result
from tests.support.builders import offering_published
from tests.support.identities import new_id


async def test_a_list_first_asked_for_after_a_credential_is_valid_from_the_first_credential(
    units_of_work: Units,
) -> None:
    service, offering = credential_service(), offering_published("rheinfeld")
    learners = [new_id("lrn") for _ in range(2)]
    async with units_of_work() as uow:
        await application.apply_offering_event(uow, offering)
        for learner_id in learners:
            await service.on_result(uow, passed_result(offering, learner_id))
        await uow.commit()
    async with units_of_work() as uow:
        credentials = [
            c for learner_id in learners for c in await uow.credentials.of_learner(learner_id)
        ]
        issuer = credentials[0].issuer_partner_id
        first_list = await uow.status_lists.get(issuer, SUSPENSION)
        await uow.commit()
    issued = sorted(c.issued_at for c in credentials if c.issuer_partner_id == issuer)
    assert len(issued) == 2
    assert first_list.changed_at == issued[0]
    async with units_of_work() as uow:
        signed = await service.signed_status_list(uow, issuer, SUSPENSION)
    assert signed["validFrom"] == xsd_datetime(issued[0])


async def test_a_list_of_an_issuer_without_credentials_is_valid_from_its_making(
    units_of_work: Units,
) -> None:
    async with units_of_work() as uow:
        before = utc_now()
        made = await uow.status_lists.get("nordhavn", SUSPENSION)
        assert before <= made.changed_at <= utc_now()
