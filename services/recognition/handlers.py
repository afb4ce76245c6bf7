"""One small handler per consumed event: keep the ledger, the pathways and the offerings
current, and re-evaluate what depends on a change."""

from __future__ import annotations

from services.recognition.domain import HeldCredential, OfferingSummary, OfferingVersion
from services.recognition.pathways import PathwayTracker
from services.recognition.recognitions import RecognitionDesk
from services.recognition.repository import CredentialLedger, Offerings, PathwayDefinitions
from shared.db.uow import UnitOfWork
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
)
from shared.events.catalogue import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.events.pathways import PathwayDefined
from shared.messaging.consumer import Deferred, EventConsumer, EventContext, EventRejected
from shared.offering_views import OfferingConflict, OfferingEvent, supersedes


async def on_credential_issued(event: CredentialIssued, _: EventContext, uow: UnitOfWork) -> None:
    credential = HeldCredential(
        credential_id=event.credential_id,
        learner_id=event.learner_id,
        offering_id=event.offering_id,
        pathway_id=event.pathway_id,
        awarding_partner_id=event.awarding_partner_id,
        ects=float(event.achievement.ects),
        eqf_level=event.achievement.eqf_level,
        title=dict(event.achievement.title),
        skill_uris=event.achievement.skill_uris,
        issued_at=event.issued_at,
    )
    await CredentialLedger(uow.session).add(credential)
    uow.release(f"credential:{event.credential_id}")
    tracker = PathwayTracker(uow)
    if credential.is_stacked:
        await tracker.stacked_issued(credential, event.component_credential_ids)
    await tracker.learner_changed(event.learner_id)


async def on_credential_revoked(event: CredentialRevoked, _: EventContext, uow: UnitOfWork) -> None:
    ledger = CredentialLedger(uow.session)
    if not await ledger.revoke(event.credential_id, event.reason.value, event.revoked_at):
        # Both travel on the learner's partition, so the issue normally comes first; when a
        # replay or another issuer's history says otherwise, the revocation waits for it.
        raise Deferred(
            f"credential:{event.credential_id}", f"credential {event.credential_id} not known yet"
        )
    revoked = await ledger.get(event.credential_id)
    assert revoked is not None
    await PathwayTracker(uow).learner_changed(event.learner_id)
    await RecognitionDesk(uow).credential_revoked(revoked)


async def on_credential_suspension(
    event: CredentialSuspended | CredentialReinstated, _: EventContext, uow: UnitOfWork
) -> None:
    """Progress stops counting a suspended credential and counts it again once reinstated;
    a standing completion and the stacked credential built on it are left as they are."""
    at = event.suspended_at if isinstance(event, CredentialSuspended) else None
    if not await CredentialLedger(uow.session).suspend(event.credential_id, at):
        raise Deferred(
            f"credential:{event.credential_id}", f"credential {event.credential_id} not known yet"
        )
    await PathwayTracker(uow).learner_changed(event.learner_id)


async def on_pathway_defined(event: PathwayDefined, _: EventContext, uow: UnitOfWork) -> None:
    definitions = PathwayDefinitions(uow.session)
    latest = await definitions.latest_version(event.pathway_id)
    if latest is not None and latest.owner_partner_id != event.owner_partner_id:
        raise EventRejected(
            f"pathway {event.pathway_id} belongs to {latest.owner_partner_id}, "
            f"not {event.owner_partner_id}"
        )
    if latest is not None and latest.version > event.version:
        return  # an older version, read late or again: the newer one stands
    if latest is None or latest.version < event.version:
        definitions.add(event)
    elif PathwayDefined.model_validate_json(latest.definition) != event:
        raise EventRejected(
            f"pathway {event.pathway_id} version {event.version} is already defined otherwise"
        )
    # Also when the API stored this version already: learners are re-evaluated here only.
    await PathwayTracker(uow).pathway_changed(event)


async def on_offering(event: OfferingEvent, _: EventContext, uow: UnitOfWork) -> None:
    offerings = Offerings(uow.session)
    held = await offerings.version_of(event.offering_id)
    try:
        newer = supersedes(event, OfferingVersion(*held) if held else None)
    except OfferingConflict as exc:
        raise EventRejected(str(exc)) from exc
    if not newer:
        return
    if isinstance(event, OfferingWithdrawn):
        await offerings.withdraw(event.offering_id, event.version)
        return
    summary = OfferingSummary(
        offering_id=event.offering_id,
        partner_id=event.partner_id,
        title=dict(event.title),
        ects=float(event.workload.ects),
        eqf_level=event.eqf_level,
        end_date=event.end_date,
        open=True,
    )
    await offerings.save(summary, event.version)


def register(consumer: EventConsumer[UnitOfWork]) -> None:
    consumer.handles(CredentialIssued)(on_credential_issued)
    consumer.handles(CredentialRevoked)(on_credential_revoked)
    consumer.handles(CredentialSuspended)(on_credential_suspension)
    consumer.handles(CredentialReinstated)(on_credential_suspension)
    consumer.handles(PathwayDefined)(on_pathway_defined)
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
