"""Issuance's own database: what it needs to issue credentials on behalf of partners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class IssuanceTable(SQLModel, registry=registry()):
    """Tables of the issuance service's own database, in a metadata of their own (other
    services have tables of the same name, e.g. their own view of offerings)."""


class OfferingTerms(IssuanceTable, table=True):
    """The offering as last published: every EU element a credential for it must carry."""

    __tablename__ = "offering_terms"

    offering_id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(max_length=32)
    version: int
    withdrawn: bool = False
    snapshot: str = Field(sa_type=Text)
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))
