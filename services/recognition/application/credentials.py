"""The learners' credentials as issuance announces them, and what each change moves: progress
on every pathway, and the recognitions based on a revoked credential."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from services.recognition.application.pathways import PathwayTracker
from services.recognition.application.recognitions import withdraw_on_revocation
from services.recognition.domain import CredentialNotKnownYet, credential_fact, held_credential
from services.recognition.unit_of_work import RecognitionUnitOfWork
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
)


async def credentials_coming(
    uow: RecognitionUnitOfWork, events: Sequence[CredentialIssued]
) -> None:
    """Reads together the records of the learners `events` are about: each event judges
    its learner on theirs."""
    await uow.learners.read_ahead({event.learner_id for event in events})


async def credential_issued(uow: RecognitionUnitOfWork, event: CredentialIssued) -> None:
    credential = held_credential(event)
    await uow.credentials.add(credential)
    uow.release(credential_fact(event.credential_id))
    tracker = PathwayTracker(uow)
    record = await uow.learners.record(event.learner_id)
    if credential.is_stacked:
        record = await tracker.stacked_issued(credential, event.component_credential_ids, record)
    await tracker.learner_changed(event.learner_id, record)


async def credential_revoked(uow: RecognitionUnitOfWork, event: CredentialRevoked) -> None:
    if not await uow.credentials.revoke(event.credential_id, event.reason.value, event.revoked_at):
        # Both travel on the learner's partition, so the issue normally comes first; when a
        # replay or another issuer's history says otherwise, the revocation waits for it.
        raise CredentialNotKnownYet(event.credential_id)
    revoked = await uow.credentials.get(event.credential_id)
    assert revoked is not None
    await PathwayTracker(uow).learner_changed(event.learner_id)
    await withdraw_on_revocation(uow, revoked)


async def credential_suspended(uow: RecognitionUnitOfWork, event: CredentialSuspended) -> None:
    """Progress stops counting a suspended credential; a standing completion and the
    stacked credential built on it are left as they are (a suspension may be lifted)."""
    await _suspension(uow, event.credential_id, event.learner_id, event.suspended_at)


async def credential_reinstated(uow: RecognitionUnitOfWork, event: CredentialReinstated) -> None:
    """Progress counts the credential again."""
    await _suspension(uow, event.credential_id, event.learner_id, None)


async def _suspension(
    uow: RecognitionUnitOfWork, credential_id: str, learner_id: str, at: dt.datetime | None
) -> None:
    if not await uow.credentials.suspend(credential_id, at):
        raise CredentialNotKnownYet(credential_id)
    await PathwayTracker(uow).learner_changed(learner_id)
