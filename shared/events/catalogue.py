"""Offering events: a partner publishes, updates or withdraws a micro-credential offering."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import Field, model_validator

from shared.events.spec import EventSpec
from shared.events.topics import OFFERINGS
from shared.events.vocabulary import (
    PLAIN_TEXT,
    AssessmentType,
    AwardingBody,
    CountryCode,
    EqfLevel,
    LanguageCode,
    LearningOutcome,
    MultilingualText,
    NonEmptyUnique,
    OfferingId,
    ParticipationMode,
    PartnerId,
    Payload,
    QualityAssuranceType,
    ShortText,
    Stackability,
    SupervisionAndIdentityVerification,
    Text,
    Timestamp,
    Unique,
    Url,
    Version,
    Workload,
)


class Prerequisites(Payload):
    """Prerequisites needed to enrol (EU optional element)."""

    description: MultilingualText
    required_offering_ids: Unique[OfferingId] = Field(
        default=(),
        description=(
            "A credential from each of these offerings is required; an empty list means the "
            "prerequisites are checked by people, not machines."
        ),
    )


class OfferingSnapshot(Payload):
    """The full state of an offering at one version, with every mandatory EU element."""

    offering_id: OfferingId
    partner_id: PartnerId = Field(description="The partner that teaches and publishes it.")
    version: Version
    title: MultilingualText = Field(description="Title (EU mandatory element 2).")
    description: MultilingualText | None = None
    awarding_bodies: NonEmptyUnique[AwardingBody] = Field(
        description="Awarding body(ies) (EU mandatory element 4)."
    )
    countries: NonEmptyUnique[CountryCode] = Field(
        description="Country(ies) of the issuer (EU mandatory element 3)."
    )
    learning_outcomes: NonEmptyUnique[LearningOutcome] = Field(
        description="Learning outcomes (EU mandatory element 6)."
    )
    workload: Workload = Field(description="Notional workload (EU mandatory element 7).")
    eqf_level: EqfLevel = Field(description="EQF level 1-8 (EU mandatory element 8).")
    nqf_level: Annotated[str, Field(min_length=1, max_length=16, pattern=PLAIN_TEXT)] | None = (
        Field(default=None, description="Level in the national qualifications framework, if any.")
    )
    assessment_types: NonEmptyUnique[AssessmentType] = Field(
        description="Type(s) of assessment (EU mandatory element 9)."
    )
    participation_mode: ParticipationMode = Field(
        description="Form of participation (EU mandatory element 10)."
    )
    quality_assurance: NonEmptyUnique[QualityAssuranceType] = Field(
        description="Type(s) of quality assurance (EU mandatory element 11)."
    )
    prerequisites: Prerequisites | None = None
    supervision_and_identity_verification: SupervisionAndIdentityVerification | None = None
    stackability: Stackability | None = None
    further_information_url: Url | None = None
    languages_of_instruction: NonEmptyUnique[LanguageCode]
    fields_of_study: NonEmptyUnique[ShortText] = Field(
        description="ISCED-F 2013 field codes (e.g. `0613`) or free text."
    )
    start_date: dt.date
    end_date: dt.date
    capacity: Annotated[int, Field(ge=1, description="Number of places.")]

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class OfferingPublished(OfferingSnapshot):
    """An offering was published for the first time (version 1 or a re-publication)."""

    published_at: Timestamp


class OfferingUpdated(OfferingSnapshot):
    """An offering changed; carries the complete new state, not a diff."""

    updated_at: Timestamp


class OfferingWithdrawn(Payload):
    """An offering was withdrawn; no new enrolments are accepted."""

    offering_id: OfferingId
    partner_id: PartnerId
    version: Version
    reason: Text
    withdrawn_at: Timestamp


OFFERING_PUBLISHED = EventSpec(
    name="offering.published",
    version=1,
    model=OfferingPublished,
    topic=OFFERINGS,
    summary="A partner published a micro-credential offering.",
    key=lambda e: e.offering_id,
    subject=lambda e: e.offering_id,
    acting_partner=lambda e: e.partner_id,
)
OFFERING_UPDATED = EventSpec(
    name="offering.updated",
    version=1,
    model=OfferingUpdated,
    topic=OFFERINGS,
    summary="A partner changed an offering; the payload is the full new snapshot.",
    key=lambda e: e.offering_id,
    subject=lambda e: e.offering_id,
    acting_partner=lambda e: e.partner_id,
)
OFFERING_WITHDRAWN = EventSpec(
    name="offering.withdrawn",
    version=1,
    model=OfferingWithdrawn,
    topic=OFFERINGS,
    summary="A partner withdrew an offering.",
    key=lambda e: e.offering_id,
    subject=lambda e: e.offering_id,
    acting_partner=lambda e: e.partner_id,
)
SPECS = (OFFERING_PUBLISHED, OFFERING_UPDATED, OFFERING_WITHDRAWN)
