"""Recognition between partners: a learner's request, decided by the recognising partner's
published rules where they can, otherwise by its staff; and what a revoked credential does to
the recognitions based on it. Every step is announced as an event with its reasons."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.recognition.domain import (
    PENDING,
    AlreadyRequested,
    CredentialNoLongerValid,
    CredentialNotHeld,
    HeldCredential,
    NotForThisPartner,
    NotPending,
    PublishedRules,
    Recognition,
    RecognitionNotFound,
    RuleSet,
    apply_rules,
    not_on_hold,
)
from services.recognition.unit_of_work import RecognitionUnitOfWork
from shared.clock import utc_now
from shared.events import RecognitionDecided, RecognitionDecision, RecognitionRequested
from shared.events.recognition import RecognitionWithdrawn


async def publish_rules(
    uow: RecognitionUnitOfWork, partner_id: str, rules: RuleSet
) -> PublishedRules:
    """Replaces a partner's rules; they apply to requests made from now on."""
    return await uow.rule_sets.replace(partner_id, rules)


def _decide(
    uow: RecognitionUnitOfWork,
    recognition: Recognition,
    decision: RecognitionDecision,
    reasons: Sequence[str],
    automatic: bool,
) -> Recognition:
    """The request decided, and the decision announced."""
    at = utc_now()
    decided = recognition.decided(decision, reasons, automatic, at)
    uow.record(
        RecognitionDecided(
            recognition_id=decided.recognition_id,
            learner_id=decided.learner_id,
            credential_id=decided.credential_id,
            recognising_partner_id=decided.recognising_partner_id,
            decision=decision,
            automatic=automatic,
            reasons=decided.reasons,
            decided_at=at,
        )
    )
    return decided


async def request_recognition(
    uow: RecognitionUnitOfWork,
    learner_id: str,
    credential_id: str,
    partner_id: str,
    programme: str,
) -> Recognition:
    credential = await uow.credentials.get(credential_id, lock=True)
    if credential is None or credential.learner_id != learner_id:
        raise CredentialNotHeld(f"You hold no credential {credential_id}.")
    if not credential.counts:
        raise CredentialNoLongerValid(
            f"Credential {credential_id} was revoked ({credential.revocation_reason})."
        )
    not_on_hold(credential)
    if credential.awarding_partner_id == partner_id:
        raise NotForThisPartner(
            f"{partner_id} awarded credential {credential_id} itself; recognition is "
            "between partners."
        )
    open_ones = [
        r
        for r in await uow.recognitions.find(
            learner_id=learner_id, credential_id=credential_id, partner_id=partner_id
        )
        if (r.pending or r.recognised) and r.programme.casefold() == programme.casefold()
    ]
    if open_ones:
        raise AlreadyRequested(
            f"Recognition {open_ones[0].recognition_id} already asks {partner_id} for "
            f"this credential towards {programme} ({open_ones[0].status})."
        )
    published = await uow.rule_sets.get(partner_id)
    outcome = apply_rules(published.rules, partner_id, programme, credential)
    recognition = Recognition(
        recognition_id=f"rec-{uuid.uuid4().hex[:24]}",
        learner_id=learner_id,
        credential_id=credential_id,
        recognising_partner_id=partner_id,
        programme=programme,
        status=PENDING,
        reasons=outcome.reasons,
        requested_at=utc_now(),
    )
    uow.record(
        RecognitionRequested(
            recognition_id=recognition.recognition_id,
            learner_id=learner_id,
            credential_id=credential_id,
            recognising_partner_id=partner_id,
            programme=programme,
            requested_at=recognition.requested_at,
        )
    )
    if outcome.decision is not None:
        recognition = _decide(uow, recognition, outcome.decision, outcome.reasons, automatic=True)
    await uow.recognitions.save(recognition)
    return recognition


async def decide_recognition(
    uow: RecognitionUnitOfWork,
    recognition_id: str,
    partner_id: str,
    decision: RecognitionDecision,
    reasons: Sequence[str],
) -> Recognition:
    """A decision by the recognising partner's staff; no one else's request is found."""
    recognition = await uow.recognitions.get(recognition_id, lock=True)
    if recognition is None or recognition.recognising_partner_id != partner_id:
        raise RecognitionNotFound(f"{partner_id} has no recognition request {recognition_id}.")
    if not recognition.pending:
        raise NotPending(f"Recognition {recognition_id} is already {recognition.status}.")
    credential = await uow.credentials.get(recognition.credential_id)
    if credential is not None and not credential.counts:
        raise NotPending(f"Credential {recognition.credential_id} was revoked meanwhile.")
    if credential is not None:
        not_on_hold(credential)
    recognition = _decide(uow, recognition, decision, reasons, automatic=False)
    await uow.recognitions.save(recognition)
    return recognition


async def withdraw_on_revocation(uow: RecognitionUnitOfWork, credential: HeldCredential) -> None:
    """A pending request on the revoked credential is refused; a recognition granted on
    it is withdrawn. Both say why."""
    why = f"The credential {credential.credential_id} was revoked ({credential.revocation_reason})."
    for recognition in await uow.recognitions.find(credential_id=credential.credential_id):
        if recognition.pending:
            changed = _decide(uow, recognition, RecognitionDecision.REFUSED, [why], automatic=True)
        elif recognition.recognised:
            at = utc_now()
            changed = recognition.withdrawn(why, at)
            uow.record(
                RecognitionWithdrawn(
                    recognition_id=changed.recognition_id,
                    learner_id=changed.learner_id,
                    credential_id=changed.credential_id,
                    recognising_partner_id=changed.recognising_partner_id,
                    reasons=(why,),
                    withdrawn_at=at,
                )
            )
        else:
            continue
        await uow.recognitions.save(changed)
