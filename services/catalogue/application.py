"""The catalogue's use cases: applying partners' offering events to the search, and partners
publishing through the API as an alternative to their own events.

Publishing does not write the read model: it announces `offering.*` events through the
outbox, and the catalogue's consumer applies them like any partner's. The next version is
taken from the versions the API already announced (written in the same transaction as the
outbox row) or from the read model when the partner's own system moved the offering
further, whichever is later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from services.catalogue.domain import (
    AlreadyExists,
    Standing,
    apply_offering,
    check_change,
    latest,
    standing_of,
)
from services.catalogue.unit_of_work import CatalogueUnitOfWork
from shared.clock import utc_now
from shared.errors import LostRace
from shared.events import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.offering_views import OfferingEvent

EventT = TypeVar("EventT", OfferingPublished, OfferingUpdated, OfferingWithdrawn)


async def apply_offering_event(uow: CatalogueUnitOfWork, event: OfferingEvent) -> None:
    held = await uow.offerings.get(event.offering_id)
    listing = apply_offering(held, event)
    if listing is not None:
        await uow.offerings.save(listing, first=held is None)


async def publish(
    uow: CatalogueUnitOfWork, partner_id: str, fields: dict[str, Any]
) -> OfferingPublished:
    """Announces a new offering (version 1); `fields` are its snapshot without a version."""
    offering_id = fields["offering_id"]

    def first(standing: Standing | None) -> OfferingPublished:
        if standing is not None:
            raise AlreadyExists(
                f"Offering {offering_id} already exists; change it with PUT /offerings/"
                f"{offering_id}."
            )
        return OfferingPublished(**fields, version=1, published_at=utc_now())

    return await _announce(uow, offering_id, partner_id, first)


async def update(
    uow: CatalogueUnitOfWork,
    partner_id: str,
    offering_id: str,
    fields: dict[str, Any],
    expected_version: int | None,
) -> OfferingUpdated:
    def replacement(standing: Standing | None) -> OfferingUpdated:
        current = check_change(offering_id, standing, partner_id, expected_version)
        return OfferingUpdated(**fields, version=current.version + 1, updated_at=utc_now())

    return await _announce(uow, offering_id, partner_id, replacement)


async def withdraw(
    uow: CatalogueUnitOfWork,
    partner_id: str,
    offering_id: str,
    reason: str,
    expected_version: int | None,
) -> OfferingWithdrawn:
    def withdrawal(standing: Standing | None) -> OfferingWithdrawn:
        current = check_change(offering_id, standing, partner_id, expected_version)
        return OfferingWithdrawn(
            offering_id=offering_id,
            partner_id=partner_id,
            version=current.version + 1,
            reason=reason,
            withdrawn_at=utc_now(),
        )

    return await _announce(uow, offering_id, partner_id, withdrawal)


async def _announce(
    uow: CatalogueUnitOfWork,
    offering_id: str,
    partner_id: str,
    decide: Callable[[Standing | None], EventT],
) -> EventT:
    emitted = await uow.emitted_versions.get_for_update(offering_id)
    listed = standing_of(await uow.offerings.get(offering_id))
    event = decide(latest(emitted, listed))
    moved = await uow.emitted_versions.advance(
        offering_id,
        partner_id,
        emitted.version if emitted else None,
        event.version,
        isinstance(event, OfferingWithdrawn),
    )
    if not moved:
        raise LostRace(
            f"Offering {offering_id} is being changed by others; read it again and retry."
        )
    uow.record(event)
    return event
