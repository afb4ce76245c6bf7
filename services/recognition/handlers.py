"""One small handler per credential event: keep each learner's ledger current."""

from __future__ import annotations

from services.recognition.domain import HeldCredential
from services.recognition.repository import CredentialLedger
from shared.db.uow import UnitOfWork
from shared.events import CredentialIssued, CredentialRevoked
from shared.messaging.consumer import EventConsumer, EventContext, TransientError


async def on_credential_issued(event: CredentialIssued, _: EventContext, uow: UnitOfWork) -> None:
    await CredentialLedger(uow.session).add(
        HeldCredential(
            credential_id=event.credential_id,
            learner_id=event.learner_id,
            offering_id=event.offering_id,
            pathway_id=event.pathway_id,
            awarding_partner_id=event.awarding_partner_id,
            ects=float(event.achievement.ects),
            eqf_level=event.achievement.eqf_level,
            title=dict(event.achievement.title),
            issued_at=event.issued_at,
        )
    )


async def on_credential_revoked(event: CredentialRevoked, _: EventContext, uow: UnitOfWork) -> None:
    known = await CredentialLedger(uow.session).revoke(
        event.credential_id, event.reason.value, event.revoked_at
    )
    if not known:
        # Both events share the learner's partition, so the issue normally comes first; a
        # revocation of an unknown credential is worth a retry before it is parked.
        raise TransientError(f"credential {event.credential_id} is not known yet")


def register(consumer: EventConsumer) -> None:
    consumer.handles(CredentialIssued)(on_credential_issued)
    consumer.handles(CredentialRevoked)(on_credential_revoked)
