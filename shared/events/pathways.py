"""Pathway events: how far a learner's credentials go towards an alliance pathway."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shared.events.spec import EventSpec
from shared.events.topics import PATHWAYS
from shared.events.vocabulary import (
    CredentialId,
    Ects,
    LearnerId,
    MultilingualText,
    NonEmptyUnique,
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
SPECS = (PATHWAY_PROGRESSED, PATHWAY_COMPLETED)
