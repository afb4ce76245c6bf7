"""Recognition events: a partner recognises (or refuses) another partner's credential
towards one of its own programmes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.events.spec import EventSpec
from shared.events.topics import RECOGNITIONS
from shared.events.vocabulary import (
    CredentialId,
    LearnerId,
    NonEmptyUnique,
    PartnerId,
    Payload,
    RecognitionId,
    ShortText,
    Text,
    Timestamp,
)


class RecognitionDecision(StrEnum):
    """The outcome of a recognition request."""

    RECOGNISED = "recognised"
    REFUSED = "refused"


class RecognitionRequested(Payload):
    """A learner asked a partner to recognise a credential towards a programme."""

    recognition_id: RecognitionId
    learner_id: LearnerId
    credential_id: CredentialId
    recognising_partner_id: PartnerId
    programme: ShortText = Field(description="The recognising partner's programme.")
    requested_at: Timestamp


class RecognitionDecided(Payload):
    """The recognising partner decided. Reasons are always given: a refusal must be
    justified, and a recognition says what it was based on."""

    recognition_id: RecognitionId
    learner_id: LearnerId
    credential_id: CredentialId
    recognising_partner_id: PartnerId
    decision: RecognitionDecision
    automatic: bool = Field(description="Decided by pathway rules without a person.")
    reasons: NonEmptyUnique[Text]
    decided_at: Timestamp


RECOGNITION_REQUESTED = EventSpec(
    name="recognition.requested",
    version=1,
    model=RecognitionRequested,
    topic=RECOGNITIONS,
    summary="A learner asked for a credential to be recognised towards a programme.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.recognition_id,
    acting_partner=lambda e: e.recognising_partner_id,
)
RECOGNITION_DECIDED = EventSpec(
    name="recognition.decided",
    version=1,
    model=RecognitionDecided,
    topic=RECOGNITIONS,
    summary="The recognising partner recognised or refused a credential.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.recognition_id,
    acting_partner=lambda e: e.recognising_partner_id,
)


class RecognitionWithdrawn(Payload):
    """A recognition granted earlier no longer stands, because the credential it was based
    on was revoked. A separate event rather than a third `decision` value: consumers of
    `recognition.decided.v1` read a closed set of decisions, and a withdrawal is not the
    recognising partner's decision but a consequence of the revocation."""

    recognition_id: RecognitionId
    learner_id: LearnerId
    credential_id: CredentialId
    recognising_partner_id: PartnerId
    reasons: NonEmptyUnique[Text]
    withdrawn_at: Timestamp


RECOGNITION_WITHDRAWN = EventSpec(
    name="recognition.withdrawn",
    version=1,
    model=RecognitionWithdrawn,
    topic=RECOGNITIONS,
    summary="A recognition was withdrawn because its credential was revoked.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.recognition_id,
    acting_partner=lambda e: e.recognising_partner_id,
)
SPECS = (RECOGNITION_REQUESTED, RECOGNITION_DECIDED, RECOGNITION_WITHDRAWN)
