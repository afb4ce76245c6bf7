"""What the gateway answers: its own view of the services' answers.

Fields a service adds later are ignored rather than refused, so a service can grow its API
without breaking the gateway; an answer missing what is promised here is a 502.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.auth import IdentityClaim, Role
from shared.events import (
    AchievementSummary,
    AssessedResult,
    EnrolmentRejectionReason,
    OfferingSnapshot,
)
from shared.events.pathways import PathwayCriteria
from shared.events.vocabulary import PLAIN_TEXT, LearnerId, OfferingId, PartnerId


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Offering(_Answer):
    offering_id: str
    partner_id: str
    version: int
    status: str = Field(description="`published`, or `withdrawn` (no new enrolments).")
    offering: OfferingSnapshot | None = Field(description="Every EU micro-credential element.")


class OfferingPage(_Answer):
    items: list[Offering]
    total: int = Field(description="Matching offerings in all pages.")
    limit: int
    offset: int


class EnrolmentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"offering_id": "off-valdemora-data-ethics-2025"}]},
    )

    offering_id: OfferingId


class Enrolment(_Answer):
    enrolment_id: str
    offering_id: str
    partner_id: str = Field(description="The teaching partner.")
    learner_id: str
    status: Literal["accepted", "waitlisted", "rejected", "withdrawn"]
    position: int | None = Field(
        default=None, description="Place on the waiting list (1 = next), while waiting."
    )
    reason: EnrolmentRejectionReason | None = Field(
        default=None, description="Why the request was refused, if it was."
    )
    detail: str | None = Field(default=None, description="Readable explanation of a refusal.")
    requested_at: dt.datetime
    changed_at: dt.datetime


class Result(AssessedResult):
    model_config = ConfigDict(extra="ignore", frozen=True)

    recorded_at: dt.datetime
    status: Literal["current", "superseded"] = Field(
        description="Only the current result counts; a correction supersedes the earlier one."
    )
    superseded_by_result_id: str | None = None


class ResultPage(_Answer):
    items: list[Result]
    limit: int
    offset: int


class Me(BaseModel):
    """Who the access token says the caller is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"role": "learner", "learner_id": "lrn-4f0c2a9e1b7d6c35"},
                {"role": "partner_staff", "partner_id": "valdemora"},
            ]
        }
    )

    role: Role
    learner_id: LearnerId | None = Field(
        default=None, description="The caller's pseudonymous learner id, for learners."
    )
    partner_id: PartnerId | None = Field(
        default=None, description="The partner the caller acts for, for partner staff/systems."
    )


class CredentialSummary(_Answer):
    """One credential in the learner's wallet, as issuance lists it."""

    credential_id: str
    kind: Literal["offering", "pathway"] = Field(
        description="`offering`: a micro-credential for one course; `pathway`: a stacked "
        "credential (CLR) for a completed pathway."
    )
    offering_id: str | None = None
    pathway_id: str | None = None
    achievement: AchievementSummary
    awarding_partner_id: str
    issuing_partner_id: str
    issued_at: dt.datetime
    status: Literal["valid", "suspended", "revoked"]
    revoked_at: dt.datetime | None = None
    suspended_at: dt.datetime | None = None


class CredentialList(_Answer):
    items: list[CredentialSummary]


class ShareRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {},
                {"expires_in_days": 30},
                {"show_name": "Ada Lovelace"},
                {"identify_by": ["email"]},
                {"show_name": "Ada Lovelace", "identify_by": ["email", "name"]},
            ]
        },
    )

    expires_in_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="The link stops working after this; none: it works until withdrawn.",
    )
    show_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=PLAIN_TEXT,
        description="My name, to show on the link's page and PDF (the credential identifies "
        "me by salted hashes only; the page says whether they confirm the name).",
    )
    identify_by: list[IdentityClaim] | None = Field(
        default=None,
        min_length=1,
        max_length=2,
        description="Share a copy of the credential issued again with these claims of my "
        "token (my verified `email`, my `name`) added as salted hashes, so whoever I tell "
        "them can check them on the link; none: the credential as issued.",
    )


class IdentityCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identity: str = Field(
        min_length=1,
        max_length=320,
        pattern=PLAIN_TEXT,
        description="A name or e-mail address the learner gave, to check against the "
        "credential's salted identity hashes.",
    )


class IdentityMatch(BaseModel):
    match: bool = Field(description="Whether the credential identifies its learner by it.")


class ShareLink(BaseModel):
    """A public link to one of the learner's credentials."""

    token: str = Field(description="Unguessable (256 random bits); whoever has it can read.")
    url: str = Field(description="The credential as issued (JSON-LD).")
    page_url: str = Field(description="A readable page with a QR code to `verify_url`.")
    pdf_url: str
    verify_url: str = Field(description="Each verification check's outcome.")
    credential_id: str
    title: str
    status: Literal["active", "withdrawn", "expired"]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    withdrawn_at: dt.datetime | None


class PartnerNamed(BaseModel):
    """Spelt as the verifier's report spells it (JSON-LD style)."""

    id: str
    legalName: str


class CheckOutcome(BaseModel):
    check: Literal["structure", "proof", "validity", "status", "trust"]
    outcome: Literal["passed", "failed", "skipped"]
    message: str


class Verification(BaseModel):
    """Every check, in the order Open Badges 3.0 verifiers run them; `verified` only when
    all passed."""

    verified: bool
    credentialId: str | None
    issuer: str | None
    partner: PartnerNamed | None = Field(description="The alliance partner that issued it.")
    checks: list[CheckOutcome]


class Pathway(_Answer):
    """An alliance pathway: which credentials, together, earn a stacked credential."""

    pathway_id: str
    version: int
    owner_partner_id: str
    title: dict[str, str]
    description: dict[str, str]
    criteria: PathwayCriteria


class PathwayProgress(_Answer):
    """How far my credentials go towards one pathway."""

    pathway_id: str
    pathway_version: int
    owner_partner_id: str
    title: dict[str, str]
    status: str = Field(
        description="in_progress, complete (stacked credential being issued), "
        "credential_issued, or completion_revoked."
    )
    complete: bool
    ects_earned: float
    ects_required: float
    partners_counted: list[str]
    partners_required: int
    missing: list[str] = Field(description="What is missing, in words.")
    stacked_credential_id: str | None = None
