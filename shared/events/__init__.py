"""Event payload models and their specs: the Python side of `contracts/`.

Every event type at every version has one `EventSpec`; `EVENT_SPECS` lists them all, and the
contract files are generated from it (`python -m contracts.tooling export`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.events import assessment, catalogue, credentials, enrolment, pathways, recognition
from shared.events.assessment import AssessedResult, Outcome, ResultRecorded, ResultSubmitted
from shared.events.catalogue import (
    OfferingPublished,
    OfferingSnapshot,
    OfferingUpdated,
    OfferingWithdrawn,
    Prerequisites,
)
from shared.events.credentials import (
    AchievementSummary,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    RevocationReason,
    StatusListEntry,
)
from shared.events.enrolment import (
    EnrolmentAccepted,
    EnrolmentEvent,
    EnrolmentRejected,
    EnrolmentRejectionReason,
    EnrolmentRequested,
    EnrolmentWaitlisted,
    EnrolmentWithdrawn,
)
from shared.events.pathways import PathwayCompleted, PathwayEvent, PathwayProgressed
from shared.events.recognition import (
    RecognitionDecided,
    RecognitionDecision,
    RecognitionRequested,
)
from shared.events.spec import EventSpec
from shared.events.topics import TOPIC_KEY_FIELD
from shared.events.vocabulary import (
    PLAIN_TEXT,
    AssessmentType,
    AwardingBody,
    Grade,
    LearningOutcome,
    ParticipationMode,
    QualityAssuranceType,
    Stackability,
    SupervisionAndIdentityVerification,
    Workload,
)

EVENT_SPECS: tuple[EventSpec[Any], ...] = (
    *catalogue.SPECS,
    *enrolment.SPECS,
    *assessment.SPECS,
    *credentials.SPECS,
    *pathways.SPECS,
    *recognition.SPECS,
)
TOPICS: tuple[str, ...] = tuple(dict.fromkeys(spec.topic for spec in EVENT_SPECS))

_BY_TYPE: dict[str, EventSpec[Any]] = {spec.ce_type: spec for spec in EVENT_SPECS}
_BY_MODEL: dict[type[BaseModel], EventSpec[Any]] = {spec.model: spec for spec in EVENT_SPECS}


def spec_for_type(ce_type: str) -> EventSpec[Any]:
    """The spec for a CloudEvents `type` such as `eu.alliance.offering.published.v1`."""
    try:
        return _BY_TYPE[ce_type]
    except KeyError:
        raise KeyError(f"unknown event type {ce_type!r}; known: {', '.join(_BY_TYPE)}") from None


def spec_for_model(model_cls: type[BaseModel]) -> EventSpec[Any]:
    """The spec whose payload model is exactly `model_cls`."""
    try:
        return _BY_MODEL[model_cls]
    except KeyError:
        raise KeyError(f"{model_cls.__name__} is not an event payload model") from None


__all__ = [
    "EVENT_SPECS",
    "PLAIN_TEXT",
    "TOPICS",
    "TOPIC_KEY_FIELD",
    "AchievementSummary",
    "AssessedResult",
    "AssessmentType",
    "AwardingBody",
    "CredentialIssued",
    "CredentialReinstated",
    "CredentialRevoked",
    "CredentialSuspended",
    "EnrolmentAccepted",
    "EnrolmentEvent",
    "EnrolmentRejected",
    "EnrolmentRejectionReason",
    "EnrolmentRequested",
    "EnrolmentWaitlisted",
    "EnrolmentWithdrawn",
    "EventSpec",
    "Grade",
    "LearningOutcome",
    "OfferingPublished",
    "OfferingSnapshot",
    "OfferingUpdated",
    "OfferingWithdrawn",
    "Outcome",
    "ParticipationMode",
    "PathwayCompleted",
    "PathwayEvent",
    "PathwayProgressed",
    "Prerequisites",
    "QualityAssuranceType",
    "RecognitionDecided",
    "RecognitionDecision",
    "RecognitionRequested",
    "ResultRecorded",
    "ResultSubmitted",
    "RevocationReason",
    "Stackability",
    "StatusListEntry",
    "SupervisionAndIdentityVerification",
    "Workload",
    "spec_for_model",
    "spec_for_type",
]
