"""Credential events: issuance signs a credential on behalf of the awarding partner, revokes
one for good, or suspends and reinstates one."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from shared.events.spec import EventSpec
from shared.events.topics import CREDENTIALS
from shared.events.vocabulary import (
    CredentialId,
    Did,
    Ects,
    EqfLevel,
    EscoSkillUri,
    LearnerId,
    MultilingualText,
    OfferingId,
    PartnerId,
    PathwayId,
    Payload,
    Stackability,
    Text,
    Timestamp,
    Unique,
    Url,
)


class AchievementSummary(Payload):
    """What downstream services need to know about the achievement without fetching the
    credential itself."""

    title: MultilingualText
    ects: Ects
    eqf_level: EqfLevel
    skill_uris: Unique[EscoSkillUri] = Field(
        default=(), description="ESCO skills the learning outcomes are linked to."
    )
    stackability: Stackability


class StatusListEntry(Payload):
    """Where the credential's revocation bit lives (BitstringStatusListEntry)."""

    status_list_url: Url
    status_list_index: Annotated[int, Field(ge=0, description="Bit position in the list.")]


class CredentialIssued(Payload):
    """A signed micro-credential was issued. It is either for one offering, or a stacked
    credential for a completed pathway that lists its component credentials."""

    # Exactly one basis; the JSON Schema says it with `oneOf`, the model with a validator.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["offering_id"],
                    "properties": {
                        "offering_id": {"type": "string"},
                        "pathway_id": {"type": "null"},
                    },
                },
                {
                    "required": ["pathway_id", "component_credential_ids"],
                    "properties": {
                        "offering_id": {"type": "null"},
                        "pathway_id": {"type": "string"},
                        "component_credential_ids": {"minItems": 1},
                    },
                },
            ]
        }
    )

    credential_id: CredentialId
    learner_id: LearnerId
    offering_id: OfferingId | None = Field(
        default=None, description="The offering completed; absent for a stacked credential."
    )
    pathway_id: PathwayId | None = Field(
        default=None, description="The pathway completed; only for a stacked credential."
    )
    component_credential_ids: Unique[CredentialId] = Field(
        default=(), description="The credentials a stacked credential is made of."
    )
    awarding_partner_id: PartnerId = Field(description="The awarding body.")
    issuing_partner_id: PartnerId = Field(
        description="The partner that signed it; may differ from the awarding body (mandate)."
    )
    issuer_did: Did
    issued_at: Timestamp
    achievement: AchievementSummary
    status: StatusListEntry
    credential_url: Url = Field(description="Where the signed credential can be fetched.")

    @model_validator(mode="after")
    def _one_basis(self) -> Self:
        if (self.offering_id is None) == (self.pathway_id is None):
            raise ValueError("exactly one of offering_id and pathway_id must be set")
        if self.pathway_id is not None and not self.component_credential_ids:
            raise ValueError("a stacked credential lists its component_credential_ids")
        return self


class RevocationReason(StrEnum):
    """Why a credential was revoked."""

    RESULT_SUPERSEDED = "result_superseded"
    COMPONENT_REVOKED = "component_revoked"
    ISSUED_IN_ERROR = "issued_in_error"
    MISCONDUCT = "misconduct"
    OTHER = "other"


class CredentialRevoked(Payload):
    """A credential was revoked; its status list bit is set."""

    credential_id: CredentialId
    learner_id: LearnerId
    awarding_partner_id: PartnerId
    reason: RevocationReason
    detail: Text | None = None
    revoked_at: Timestamp


class CredentialSuspended(Payload):
    """A credential is suspended: it does not count while its suspension bit is set, and it
    may be reinstated (unlike a revocation)."""

    credential_id: CredentialId
    learner_id: LearnerId
    awarding_partner_id: PartnerId
    detail: Text | None = Field(default=None, description="Why, for the learner.")
    suspended_at: Timestamp


class CredentialReinstated(Payload):
    """A suspended credential is valid again; its suspension bit is cleared."""

    credential_id: CredentialId
    learner_id: LearnerId
    awarding_partner_id: PartnerId
    detail: Text | None = None
    reinstated_at: Timestamp


CREDENTIAL_ISSUED = EventSpec(
    name="credential.issued",
    version=1,
    model=CredentialIssued,
    topic=CREDENTIALS,
    summary="A signed credential was issued on behalf of the awarding partner.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.credential_id,
    acting_partner=lambda e: e.awarding_partner_id,
)
CREDENTIAL_REVOKED = EventSpec(
    name="credential.revoked",
    version=1,
    model=CredentialRevoked,
    topic=CREDENTIALS,
    summary="A credential was revoked.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.credential_id,
    acting_partner=lambda e: e.awarding_partner_id,
)
CREDENTIAL_SUSPENDED = EventSpec(
    name="credential.suspended",
    version=1,
    model=CredentialSuspended,
    topic=CREDENTIALS,
    summary="A credential was suspended by its awarding partner (reversible).",
    key=lambda e: e.learner_id,
    subject=lambda e: e.credential_id,
    acting_partner=lambda e: e.awarding_partner_id,
)
CREDENTIAL_REINSTATED = EventSpec(
    name="credential.reinstated",
    version=1,
    model=CredentialReinstated,
    topic=CREDENTIALS,
    summary="A suspended credential was reinstated by its awarding partner.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.credential_id,
    acting_partner=lambda e: e.awarding_partner_id,
)
SPECS = (CREDENTIAL_ISSUED, CREDENTIAL_REVOKED, CREDENTIAL_SUSPENDED, CREDENTIAL_REINSTATED)
