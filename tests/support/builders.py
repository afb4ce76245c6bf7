"""Events for integration tests, built for the partners of the demo registry."""

from __future__ import annotations

import datetime as dt
import uuid

from shared.events import (
    AwardingBody,
    OfferingPublished,
    OfferingWithdrawn,
    Outcome,
    ResultSubmitted,
)
from shared.events.vocabulary import AssessmentType, SupervisionAndIdentityVerification
from shared.registry import AllianceRegistry
from tests.contracts.examples import example_event
from tests.support.identities import new_id

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


def result_submitted(
    enrolment_id: str, offering_id: str, partner_id: str, learner_id: str, **changes: object
) -> ResultSubmitted:
    """A passed result for an enrolment, as the teaching partner's system submits it."""
    fields: dict[str, object] = {
        "result_id": new_id("res"),
        "enrolment_id": enrolment_id,
        "offering_id": offering_id,
        "partner_id": partner_id,
        "learner_id": learner_id,
        "outcome": Outcome.PASSED,
        "assessment_type": AssessmentType.PROJECT_WORK,
        "supervision_and_identity_verification": (
            SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
        ),
        "assessed_on": dt.date.today(),
        "submitted_at": dt.datetime.now(dt.UTC),
        **changes,
    }
    return ResultSubmitted.model_validate(fields)
