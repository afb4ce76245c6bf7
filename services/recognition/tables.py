"""Recognition's own database: each learner's credentials, as credential events told it; the
pathway definitions, learners' progress and completions; its view of offerings; partners'
recognition rules and the recognition requests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Index, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db.deferral import DeferredEvent  # noqa: F401 - its database holds this table too


class RecognitionTable(SQLModel, registry=registry()):
    """Tables of the recognition service's own database, in a metadata of their own (other
    services have tables of the same name, e.g. their own view of offerings)."""


class CredentialRecord(RecognitionTable, table=True):
    __tablename__ = "credentials"

    credential_id: str = Field(primary_key=True, max_length=64)
    learner_id: str = Field(index=True, max_length=64)
    offering_id: str | None = Field(default=None, max_length=64)
    pathway_id: str | None = Field(default=None, max_length=64)
    awarding_partner_id: str = Field(max_length=32)
    ects: float
    eqf_level: int
    title: str = Field(sa_type=Text)  # multilingual map as JSON
    skill_uris: str = Field(default="[]", sa_type=Text)  # JSON list of ESCO skill URIs
    issued_at: dt.datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revocation_reason: str | None = Field(default=None, max_length=64)
    # Set while suspended; cleared when reinstated.
    suspended_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class PathwayDefinitionRecord(RecognitionTable, table=True):
    """Every version of every pathway: a completion is judged on the version it was reached
    under, progress on the newest."""

    __tablename__ = "pathway_definitions"

    pathway_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    owner_partner_id: str = Field(max_length=32)
    definition: str = Field(sa_type=Text)  # the pathway.defined payload (contract JSON)
    defined_at: dt.datetime = Field(sa_type=DateTime(timezone=True))


class ProgressRecord(RecognitionTable, table=True):
    """The standing last announced (pathway.progressed), to announce only changes."""

    __tablename__ = "pathway_progress"

    learner_id: str = Field(primary_key=True, max_length=64)
    pathway_id: str = Field(primary_key=True, max_length=64)
    standing: str = Field(sa_type=Text)  # version, counted ids, ECTS, partners, missing (JSON)
    changed_at: dt.datetime = Field(sa_type=DateTime(timezone=True))


class CompletionRecord(RecognitionTable, table=True):
    """A learner's completion of a pathway (announced by pathway.completed), the stacked
    credential issued for it, and when and why it lost its basis."""

    __tablename__ = "pathway_completions"
    __table_args__ = (
        # At most one standing completion per learner and pathway, whatever the races.
        Index(
            "ux_completions_standing",
            "learner_id",
            "pathway_id",
            unique=True,
            postgresql_where=text("lost_at IS NULL"),
            sqlite_where=text("lost_at IS NULL"),
        ),
    )

    completion_id: int | None = Field(default=None, primary_key=True)
    learner_id: str = Field(index=True, max_length=64)
    pathway_id: str = Field(max_length=64)
    pathway_version: int
    component_ids: str = Field(sa_type=Text)  # JSON list of credential ids
    completed_at: dt.datetime = Field(sa_type=DateTime(timezone=True))
    stacked_credential_id: str | None = Field(default=None, max_length=64)
    lost_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    lost_reason: str | None = Field(default=None, sa_type=Text)
    revoked_component_ids: str | None = Field(default=None, sa_type=Text)  # JSON list
    # When pathway.completion_revoked was recorded for the stacked credential.
    revocation_announced_at: dt.datetime | None = Field(
        default=None, sa_type=DateTime(timezone=True)
    )


class OfferingRecord(RecognitionTable, table=True):
    """Recognition's view of the offerings, to suggest what would complete a pathway."""

    __tablename__ = "offerings"

    offering_id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(max_length=32)
    version: int
    status: str = Field(max_length=16)  # published | withdrawn
    title: str = Field(sa_type=Text)  # multilingual map as JSON
    ects: float
    eqf_level: int
    end_date: dt.date = Field(sa_type=Date)
    changed_at: dt.datetime = Field(sa_type=DateTime(timezone=True))


class RuleSetRecord(RecognitionTable, table=True):
    """The recognition rules a partner publishes for its programmes."""

    __tablename__ = "recognition_rules"

    partner_id: str = Field(primary_key=True, max_length=32)
    rules: str = Field(sa_type=Text)  # RuleSet as JSON
    version: int
    updated_at: dt.datetime = Field(sa_type=DateTime(timezone=True))


class RecognitionRecord(RecognitionTable, table=True):
    __tablename__ = "recognitions"

    recognition_id: str = Field(primary_key=True, max_length=64)
    learner_id: str = Field(index=True, max_length=64)
    credential_id: str = Field(index=True, max_length=64)
    recognising_partner_id: str = Field(index=True, max_length=32)
    programme: str = Field(max_length=300)
    status: str = Field(max_length=16)  # pending | recognised | refused | withdrawn
    automatic: bool | None = None
    reasons: str = Field(sa_type=Text)  # JSON list: the rules' findings, then the decision's
    requested_at: dt.datetime = Field(sa_type=DateTime(timezone=True))
    decided_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    withdrawn_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
