"""Pathway events: which credentials complete an alliance pathway (its definition), and how
far a learner's credentials go towards it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import Field, model_validator

from shared.events.spec import EventSpec
from shared.events.topics import PATHWAY_DEFINITIONS, PATHWAYS
from shared.events.vocabulary import (
    CredentialId,
    Ects,
    EqfLevel,
    LearnerId,
    MultilingualText,
    NonEmptyUnique,
    OfferingId,
    PartnerId,
    PathwayId,
    Payload,
    Text,
    Timestamp,
    Unique,
    Version,
)


class PathwayEvent(Payload):
    """Fields every pathway event carries."""

    pathway_id: PathwayId
    pathway_version: Version
    owner_partner_id: PartnerId = Field(
        description="The partner that owns the pathway definition and speaks for it."
    )
    learner_id: LearnerId


class PathwayProgressed(PathwayEvent):
    """The learner's standing on a pathway changed (a credential counted or stopped
    counting)."""

    counted_credential_ids: Unique[CredentialId]
    ects_earned: Annotated[float, Field(ge=0)]
    ects_required: Ects
    partners_counted: Unique[PartnerId] = Field(
        description="Awarding partners of the counted credentials."
    )
    missing_requirements: tuple[Text, ...] = Field(
        description="What is still missing, readable by the learner (empty when complete)."
    )
    progressed_at: Timestamp


class PathwayCompleted(PathwayEvent):
    """The learner's credentials complete the pathway; a stacked credential is due."""

    title: MultilingualText = Field(description="Title of the pathway.")
    component_credential_ids: NonEmptyUnique[CredentialId]
    ects_earned: Ects
    completed_at: Timestamp


PATHWAY_PROGRESSED = EventSpec(
    name="pathway.progressed",
    version=1,
    model=PathwayProgressed,
    topic=PATHWAYS,
    summary="A learner's progress towards a pathway changed.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.pathway_id,
    acting_partner=lambda e: e.owner_partner_id,
)
PATHWAY_COMPLETED = EventSpec(
    name="pathway.completed",
    version=1,
    model=PathwayCompleted,
    topic=PATHWAYS,
    summary="A learner completed a pathway; the stacked credential is to be issued.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.pathway_id,
    acting_partner=lambda e: e.owner_partner_id,
)


class PathwayCriteria(Payload):
    """What completes a pathway. A credential counts when it is not revoked, is for an
    eligible offering, is at the minimum EQF level and was issued in the time window; at
    most one credential counts per offering."""

    min_ects: Ects = Field(description="ECTS the counted credentials must add up to.")
    min_eqf_level: EqfLevel | None = Field(
        default=None, description="Only credentials at this EQF level or above count."
    )
    min_partners: Annotated[int, Field(ge=1, le=32)] = Field(
        default=1, description="Distinct awarding partners the counted credentials come from."
    )
    required_offering_ids: Unique[OfferingId] = Field(
        default=(), description="A credential for each of these offerings (named modules)."
    )
    eligible_offering_ids: Unique[OfferingId] = Field(
        default=(),
        description=(
            "Only credentials for these offerings (and the required ones) count; empty: a "
            "credential for any offering counts."
        ),
    )
    issued_from: dt.date | None = Field(
        default=None, description="Only credentials issued on or after this date count."
    )
    issued_until: dt.date | None = Field(
        default=None, description="Only credentials issued on or before this date count."
    )
    within_months: Annotated[int, Field(ge=1, le=120)] | None = Field(
        default=None,
        description="The counted credentials were all issued within this many months.",
    )

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if self.issued_from and self.issued_until and self.issued_until < self.issued_from:
            raise ValueError("issued_until is before issued_from")
        return self


class PathwayDefined(Payload):
    """A partner defined a pathway, or changed it: the full definition at a new version.
    Learners' progress is judged on the newest version; a completion stays tied to the
    version it was reached under."""

    pathway_id: PathwayId
    version: Version
    owner_partner_id: PartnerId = Field(
        description="The partner that owns the pathway definition and speaks for it."
    )
    title: MultilingualText = Field(description="Title of the pathway and its stacked credential.")
    description: MultilingualText = Field(
        description="Description of the stacked credential a completed pathway earns."
    )
    criteria: PathwayCriteria
    defined_at: Timestamp


class PathwayCompletionRevoked(PathwayEvent):
    """A completed pathway is no longer complete (a component credential was revoked), so
    the stacked credential issued for it has lost its basis and is to be revoked."""

    stacked_credential_id: CredentialId = Field(
        description="The stacked credential issued for the completion, to be revoked."
    )
    revoked_component_credential_ids: NonEmptyUnique[CredentialId] = Field(
        description="The component credentials whose revocation broke the completion."
    )
    reason: Text = Field(description="Why, readable by the learner.")
    revoked_at: Timestamp


PATHWAY_DEFINED = EventSpec(
    name="pathway.defined",
    version=1,
    model=PathwayDefined,
    topic=PATHWAY_DEFINITIONS,
    summary="A partner defined or changed a pathway (full definition at a new version).",
    key=lambda e: e.pathway_id,
    subject=lambda e: e.pathway_id,
    acting_partner=lambda e: e.owner_partner_id,
)
PATHWAY_COMPLETION_REVOKED = EventSpec(
    name="pathway.completion_revoked",
    version=1,
    model=PathwayCompletionRevoked,
    topic=PATHWAYS,
    summary="A completed pathway lost its basis; its stacked credential is to be revoked.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.pathway_id,
    acting_partner=lambda e: e.owner_partner_id,
)
SPECS = (PATHWAY_PROGRESSED, PATHWAY_COMPLETED, PATHWAY_DEFINED, PATHWAY_COMPLETION_REVOKED)
