"""Recognition's own database: each learner's credentials, as credential events told it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


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
    issued_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revocation_reason: str | None = Field(default=None, max_length=64)
