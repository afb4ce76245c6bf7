"""The offering terms issuance keeps (what its credentials state) follow the owning partner's
versions only, on SQLite."""

from __future__ import annotations

import pytest

from services.issuance import handlers
from shared.events import OfferingUpdated
from shared.offering_views import OfferingConflict, OfferingEvent
from tests.issuance.conftest import Units
from tests.support.builders import offering_published
from tests.support.sqlite import deliver_offering


async def _deliver(units_of_work: Units, event: OfferingEvent) -> None:
    await deliver_offering(units_of_work, handlers.on_offering, event)


async def _terms(units_of_work: Units, offering_id: str) -> tuple[str, int] | None:
    async with units_of_work() as uow:
        terms = await uow.offering_terms.get(offering_id)
        return None if terms is None else (terms.partner_id, terms.version)


def _updated(event: OfferingEvent, version: int, partner_id: str) -> OfferingUpdated:
    return OfferingUpdated.model_validate(
        {
            **event.model_dump(exclude={"published_at"}),
            "version": version,
            "partner_id": partner_id,
            "updated_at": event.model_dump()["published_at"],
        }
    )


async def test_only_the_owning_partner_moves_the_terms_forward(
    units_of_work: Units,
) -> None:
    published = offering_published("valdemora")
    await _deliver(units_of_work, published)

    with pytest.raises(OfferingConflict, match="belongs to valdemora, not rheinfeld"):
        await _deliver(units_of_work, _updated(published, 2, "rheinfeld"))
    assert await _terms(units_of_work, published.offering_id) == ("valdemora", 1)

    await _deliver(units_of_work, _updated(published, 3, "valdemora"))
    await _deliver(units_of_work, _updated(published, 2, "valdemora"))  # late: ignored
    assert await _terms(units_of_work, published.offering_id) == ("valdemora", 3)
