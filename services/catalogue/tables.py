"""The catalogue's own database: the offerings as partners last published them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class OfferingRecord(SQLModel, table=True):
    __tablename__ = "offerings"

    offering_id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(index=True, max_length=32)
    version: int
    status: str = Field(max_length=16)  # published | withdrawn
    eqf_level: int = Field(index=True)
    ects: float
    participation_mode: str = Field(max_length=32)
    # Delimited lists (",DK,ES,") so one LIKE filter works on PostgreSQL and SQLite alike.
    countries: str = Field(max_length=256)
    languages: str = Field(max_length=256)
    # Every language's title, description and outcomes, lower-cased, for free-text search.
    search_text: str
    snapshot: str  # the offering as last published (contract JSON)
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))
