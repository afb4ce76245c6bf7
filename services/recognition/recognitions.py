"""Recognition between partners: a learner's request, decided by the recognising partner's
published rules where they can, otherwise by its staff; and what a revoked credential does to
the recognitions based on it. Every step is announced as an event with its reasons."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from services.recognition.domain import HeldCredential, apply_rules
from services.recognition.repository import CredentialLedger, Recognitions, RuleSets
from services.recognition.tables import RecognitionRecord
from shared.clock import utc_now
from shared.db.uow import UnitOfWork
from shared.events import RecognitionDecided, RecognitionDecision, RecognitionRequested
from shared.events.recognition import RecognitionWithdrawn

PENDING = "pending"
WITHDRAWN = "withdrawn"


class RecognitionRefused(Exception):
    """A request or decision that cannot be accepted; the message says why."""


class CredentialNotHeld(RecognitionRefused):
    pass


class CredentialNoLongerValid(RecognitionRefused):
    pass


class NotForThisPartner(RecognitionRefused):
    pass


class AlreadyRequested(RecognitionRefused):
    pass


class RecognitionNotFound(RecognitionRefused):
    pass


class NotPending(RecognitionRefused):
    pass


class CredentialOnHold(RecognitionRefused):
    """Suspended by its awarding partner: nothing is decided on it until it is reinstated."""


def reasons_of(record: RecognitionRecord) -> list[str]:
    reasons: list[str] = json.loads(record.reasons)
    return reasons


def _decide(
    record: RecognitionRecord,
    decision: RecognitionDecision,
    reasons: Sequence[str],
    automatic: bool,
) -> RecognitionDecided:
    record.status = decision.value
    record.automatic = automatic
    record.reasons = json.dumps(list(dict.fromkeys(reasons)), ensure_ascii=False)
    record.decided_at = utc_now()
    return RecognitionDecided(
        recognition_id=record.recognition_id,
        learner_id=record.learner_id,
        credential_id=record.credential_id,
        recognising_partner_id=record.recognising_partner_id,
        decision=decision,
        automatic=automatic,
        reasons=tuple(reasons_of(record)),
        decided_at=record.decided_at,
    )


class RecognitionDesk:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._recognitions = Recognitions(uow.session)
        self._ledger = CredentialLedger(uow.session)

    async def request(
        self, learner_id: str, credential_id: str, partner_id: str, programme: str
    ) -> RecognitionRecord:
        credential = await self._ledger.get(credential_id, lock=True)
        if credential is None or credential.learner_id != learner_id:
            raise CredentialNotHeld(f"You hold no credential {credential_id}.")
        if not credential.counts:
            raise CredentialNoLongerValid(
                f"Credential {credential_id} was revoked ({credential.revocation_reason})."
            )
        _not_on_hold(credential)
        if credential.awarding_partner_id == partner_id:
            raise NotForThisPartner(
                f"{partner_id} awarded credential {credential_id} itself; recognition is "
                "between partners."
            )
        open_ones = [
            r
            for r in await self._recognitions.find(
                learner_id=learner_id, credential_id=credential_id, partner_id=partner_id
            )
            if r.status in (PENDING, RecognitionDecision.RECOGNISED.value)
            and r.programme.casefold() == programme.casefold()
        ]
        if open_ones:
            raise AlreadyRequested(
                f"Recognition {open_ones[0].recognition_id} already asks {partner_id} for "
                f"this credential towards {programme} ({open_ones[0].status})."
            )
        rules, _, _ = await RuleSets(self._uow.session).get(partner_id)
        outcome = apply_rules(rules, partner_id, programme, credential)
        record = RecognitionRecord(
            recognition_id=f"rec-{uuid.uuid4().hex[:24]}",
            learner_id=learner_id,
            credential_id=credential_id,
            recognising_partner_id=partner_id,
            programme=programme,
            status=PENDING,
            reasons=json.dumps(list(outcome.reasons), ensure_ascii=False),
            requested_at=utc_now(),
        )
        self._recognitions.add(record)
        self._uow.record(
            RecognitionRequested(
                recognition_id=record.recognition_id,
                learner_id=learner_id,
                credential_id=credential_id,
                recognising_partner_id=partner_id,
                programme=programme,
                requested_at=record.requested_at,
            )
        )
        if outcome.decision is not None:
            self._uow.record(_decide(record, outcome.decision, outcome.reasons, automatic=True))
        return record

    async def decide(
        self,
        recognition_id: str,
        partner_id: str,
        decision: RecognitionDecision,
        reasons: Sequence[str],
    ) -> RecognitionRecord:
        """A decision by the recognising partner's staff; no one else's request is found."""
        record = await self._recognitions.get(recognition_id, lock=True)
        if record is None or record.recognising_partner_id != partner_id:
            raise RecognitionNotFound(f"{partner_id} has no recognition request {recognition_id}.")
        if record.status != PENDING:
            raise NotPending(f"Recognition {recognition_id} is already {record.status}.")
        credential = await self._ledger.get(record.credential_id)
        if credential is not None and not credential.counts:
            raise NotPending(f"Credential {record.credential_id} was revoked meanwhile.")
        if credential is not None:
            _not_on_hold(credential)
        self._uow.record(_decide(record, decision, reasons, automatic=False))
        self._recognitions.add(record)
        return record

    async def credential_revoked(self, credential: HeldCredential) -> None:
        """A pending request on the revoked credential is refused; a recognition granted on
        it is withdrawn. Both say why."""
        why = (
            f"The credential {credential.credential_id} was revoked "
            f"({credential.revocation_reason})."
        )
        for record in await self._recognitions.find(credential_id=credential.credential_id):
            if record.status == PENDING:
                self._uow.record(_decide(record, RecognitionDecision.REFUSED, [why], True))
            elif record.status == RecognitionDecision.RECOGNISED.value:
                record.status = WITHDRAWN
                record.withdrawn_at = utc_now()
                record.reasons = json.dumps([*reasons_of(record), why], ensure_ascii=False)
                self._uow.record(
                    RecognitionWithdrawn(
                        recognition_id=record.recognition_id,
                        learner_id=record.learner_id,
                        credential_id=record.credential_id,
                        recognising_partner_id=record.recognising_partner_id,
                        reasons=(why,),
                        withdrawn_at=record.withdrawn_at,
                    )
                )
            else:
                continue
            self._recognitions.add(record)


def _not_on_hold(credential: HeldCredential) -> None:
    if credential.suspended_at is not None:
        raise CredentialOnHold(
            f"Credential {credential.credential_id} is suspended by its awarding partner; "
            "recognition can be asked for and decided once it is reinstated."
        )
