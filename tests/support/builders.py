"""Events for integration tests, built for the partners of the demo registry."""

from __future__ import annotations

import datetime as dt
import uuid

from shared.events import AwardingBody, OfferingPublished, OfferingWithdrawn
from shared.registry import AllianceRegistry
from tests.contracts.examples import example_event

REGISTRY = AllianceRegistry.load()


def new_offering_id(partner_id: str) -> str:
    return f"off-{partner_id}-{uuid.uuid4().hex[:10]}"


def offering_published(
    partner_id: str, offering_id: str | None = None, **changes: object
) -> OfferingPublished:
    partner = REGISTRY.partners[partner_id]
    template = example_event("offering.published")
    assert isinstance(template, OfferingPublished)
    fields: dict[str, object] = {
        "offering_id": offering_id or new_offering_id(partner_id),
        "partner_id": partner_id,
        "awarding_bodies": (
            AwardingBody(
                partner_id=partner_id, legal_name=partner.legal_name, country=partner.country
            ),
        ),
        "countries": (partner.country,),
        "prerequisites": None,
        "published_at": dt.datetime.now(dt.UTC),
        **changes,
    }
    return template.model_copy(update=fields)


def offering_withdrawn(published: OfferingPublished, version: int) -> OfferingWithdrawn:
    return OfferingWithdrawn(
        offering_id=published.offering_id,
        partner_id=published.partner_id,
        version=version,
        reason="Withdrawn by the partner.",
        withdrawn_at=dt.datetime.now(dt.UTC),
    )
