"""The enrolment service's own database: its view of offerings and credentials, and the
enrolments it decided."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class EnrolmentTable(SQLModel, registry=registry()):
    """Tables of the enrolment service's own database, in a metadata of their own (other
    services have tables of the same name, e.g. their own view of offerings)."""


# At most one place or queue place per learner and offering; rejected and withdrawn
# enrolments stay as history, so a learner may ask again later.
ACTIVE_ENROLMENT = "status IN ('accepted', 'waitlisted')"


class OfferingRecord(EnrolmentTable, table=True):
    __tablename__ = "offerings"

    offering_id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(index=True, max_length=32)
    version: int
    status: str = Field(max_length=16)  # published | withdrawn
    capacity: int
    required_offering_ids: str = Field(sa_type=Text)  # JSON array of offering ids
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))
    # How many of its enrolments hold a place and how many wait: kept by a trigger on
    # `enrolments` (migration enrolment_0003), never written by the service.
    accepted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    waiting: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class EnrolmentRecord(EnrolmentTable, table=True):
    __tablename__ = "enrolments"
    __table_args__ = (
        Index(
            "ux_enrolments_active",
            "learner_id",
            "offering_id",
            unique=True,
            postgresql_where=text(ACTIVE_ENROLMENT),
            sqlite_where=text(ACTIVE_ENROLMENT),
        ),
        Index("ix_enrolments_offering_status", "offering_id", "status"),
    )

    enrolment_id: str = Field(primary_key=True, max_length=72)
    offering_id: str = Field(max_length=64)
    partner_id: str = Field(max_length=32)
    learner_id: str = Field(index=True, max_length=72)
    status: str = Field(max_length=16)  # accepted | waitlisted | rejected | withdrawn
    # Order on the waiting list: positions are ranks by this number, so they move up by
    # themselves when someone ahead leaves the queue.
    queue_number: int | None = None
    reason: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, sa_type=Text)
    requested_at: datetime = Field(sa_type=DateTime(timezone=True))
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))


class EarnedCredentialRecord(EnrolmentTable, table=True):
    __tablename__ = "earned_credentials"

    credential_id: str = Field(primary_key=True, max_length=72)
    learner_id: str = Field(index=True, max_length=72)
    # None only while its status is known but its issuance is not (yet).
    offering_id: str | None = Field(default=None, max_length=64)
    revoked: bool = False
    suspended: bool = False
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))


# Built from credential events alone (their handlers announce nothing), so `python -m
# infra.ops rebuild-views` may empty it and replay the log. The offerings view is not: a
# capacity change accepts waiting learners and announces it.
VIEW_TABLES = (EarnedCredentialRecord,)
