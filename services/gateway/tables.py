"""The gateway's own database: the share links learners make for their credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class GatewayTable(SQLModel, registry=registry()):
    """Tables of the gateway's own database, in a metadata of their own."""


class ShareLinkRecord(GatewayTable, table=True):
    """A public link to one credential, made by the learner who holds it.

    The credential is kept as issuance returned it when the link was made (a signed
    credential never changes, so the copy cannot drift) and erased when the link is
    withdrawn (with the name the learner showed on it); the title stays so the learner's list
    still says what the link was for.
    """

    __tablename__ = "share_links"

    token: str = Field(primary_key=True, max_length=64)
    credential_id: str = Field(max_length=80)
    learner_id: str = Field(index=True, max_length=64)
    title: str = Field(sa_type=Text)
    document: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    withdrawn_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # The name the learner chose to show on the link (the alliance knows no names).
    learner_name: str | None = Field(default=None, sa_type=Text)
