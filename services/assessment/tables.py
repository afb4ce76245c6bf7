"""The assessment service's own database: its view of offerings and enrolments, and results."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db.deferral import DeferredEvent  # noqa: F401 - its database holds this table too


class AssessmentTable(SQLModel, registry=registry()):
    """Tables of the assessment service's own database, in a metadata of their own (other
    services have tables of the same name, e.g. their own view of offerings)."""


class OfferingRecord(AssessmentTable, table=True):
    __tablename__ = "offerings"

    offering_id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(max_length=32)
    version: int
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))


class EnrolmentRecord(AssessmentTable, table=True):
    __tablename__ = "enrolments"

    enrolment_id: str = Field(primary_key=True, max_length=64)
    learner_id: str = Field(index=True, max_length=64)
    offering_id: str = Field(max_length=64)
    partner_id: str = Field(max_length=32)
    status: str = Field(max_length=16)  # accepted | withdrawn
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))


class ResultRecord(AssessmentTable, table=True):
    __tablename__ = "results"
    __table_args__ = (
        # At most one current result per enrolment, even under concurrent submissions.
        Index(
            "ux_results_current",
            "enrolment_id",
            unique=True,
            postgresql_where=text("superseded_by_result_id IS NULL"),
            sqlite_where=text("superseded_by_result_id IS NULL"),
        ),
    )

    result_id: str = Field(primary_key=True, max_length=64)
    enrolment_id: str = Field(max_length=64)
    offering_id: str = Field(index=True, max_length=64)
    partner_id: str = Field(index=True, max_length=32)
    learner_id: str = Field(index=True, max_length=64)
    supersedes_result_id: str | None = Field(default=None, max_length=64)
    superseded_by_result_id: str | None = Field(default=None, max_length=64)
    result: str = Field(sa_type=Text)  # the result as submitted (contract JSON)
    recorded_at: datetime = Field(sa_type=DateTime(timezone=True))
