"""The catalogue's own database: the offerings as partners last published them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class CatalogueTable(SQLModel, registry=registry()):
    """Tables of the catalogue's own database, in a metadata of their own (other services
    have tables of the same name, e.g. their own view of offerings)."""


class OfferingRecord(CatalogueTable, table=True):
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
    search_text: str = Field(sa_type=Text)
    # Fields of study and ESCO skill URIs, lower-cased, one a line, for their own filters.
    fields_of_study: str = Field(default="", sa_type=Text)
    skills: str = Field(default="", sa_type=Text)
    snapshot: str = Field(sa_type=Text)  # the offering as last published (contract JSON)
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))


class EmittedVersionRecord(CatalogueTable, table=True):
    """The last version of each offering the catalogue itself announced through its API.

    Written in the same transaction as the outbox row, so the next version is known before
    the catalogue's own consumer has applied the previous event to `offerings`.
    """

    __tablename__ = "offering_versions"

    offering_id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(max_length=32)
    version: int
    withdrawn: bool = False
    emitted_at: datetime = Field(sa_type=DateTime(timezone=True))


# Built from offering events alone (its handlers announce nothing), so `python -m infra.ops
# rebuild-views` may empty it and replay the log. offering_versions is not: the API writes it.
VIEW_TABLES = (OfferingRecord,)
