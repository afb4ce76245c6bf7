"""Issuance's own database: what it needs to issue credentials on behalf of partners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, LargeBinary, Text, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db.deferral import DeferredEvent  # noqa: F401 - its database holds this table too


class IssuanceTable(SQLModel, registry=registry()):
    """Tables of the issuance service's own database, in a metadata of their own (other
    services have tables of the same name, e.g. their own view of offerings)."""


class OfferingTermsRecord(IssuanceTable, table=True):
    """The offering as last published: every EU element a credential for it must carry."""

    __tablename__ = "offering_terms"

    offering_id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(max_length=32)
    version: int
    withdrawn: bool = False
    snapshot: str = Field(sa_type=Text)
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))


class CredentialRecord(IssuanceTable, table=True):
    """A credential exactly as issued (signed JSON-LD), what it was issued for, its status."""

    __tablename__ = "credentials"
    __table_args__ = (
        # One valid credential per enrolment, and per learner and pathway, even when the
        # same fact arrives twice at once; a revoked one makes room for its replacement.
        Index(
            "ux_credentials_current_enrolment",
            "enrolment_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL AND enrolment_id IS NOT NULL"),
            sqlite_where=text("revoked_at IS NULL AND enrolment_id IS NOT NULL"),
        ),
        Index(
            "ux_credentials_current_pathway",
            "learner_id",
            "pathway_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL AND pathway_id IS NOT NULL"),
            sqlite_where=text("revoked_at IS NULL AND pathway_id IS NOT NULL"),
        ),
        # A status list index is never given to two credentials.
        UniqueConstraint("issuer_partner_id", "status_list_index", name="uq_credentials_status"),
    )

    credential_id: str = Field(primary_key=True, max_length=64)
    basis: str = Field(max_length=16)  # result | pathway | vc-api
    learner_id: str | None = Field(default=None, index=True, max_length=64)
    issuer_partner_id: str = Field(max_length=32)
    awarding_partner_id: str = Field(max_length=32)
    offering_id: str | None = Field(default=None, max_length=64)
    enrolment_id: str | None = Field(default=None, max_length=64)
    result_id: str | None = Field(default=None, unique=True, max_length=64)
    pathway_id: str | None = Field(default=None, max_length=64)
    status_list_index: int
    summary: str | None = Field(default=None, sa_type=Text)  # AchievementSummary JSON
    document: str = Field(sa_type=Text)  # the signed credential, as issued
    issued_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revocation_reason: str | None = Field(default=None, max_length=32)
    # Set while suspended; cleared when reinstated.
    suspended_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class CredentialComponent(IssuanceTable, table=True):
    """A component of a stacked credential, so revoking it reaches what was built on it."""

    __tablename__ = "credential_components"

    stacked_credential_id: str = Field(primary_key=True, max_length=64)
    component_credential_id: str = Field(primary_key=True, index=True, max_length=64)


class StatusListRecord(IssuanceTable, table=True):
    """One issuer's revocation or suspension bitstring and its signed credential, re-signed
    on change."""

    __tablename__ = "status_lists"

    issuer_partner_id: str = Field(primary_key=True, max_length=32)
    purpose: str = Field(primary_key=True, max_length=16)
    bits: bytes = Field(sa_type=LargeBinary)
    signed: str | None = Field(default=None, sa_type=Text)  # None once a bit changed
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))


class CredentialOfferRecord(IssuanceTable, table=True):
    """A learner's offer of a credential to a wallet (OpenID4VCI), with hashes only of its
    pre-authorized code, transaction code and access token."""

    __tablename__ = "credential_offers"

    offer_id: str = Field(primary_key=True, max_length=64)
    credential_id: str = Field(index=True, max_length=64)
    learner_id: str = Field(max_length=64)
    code_hash: str = Field(unique=True, max_length=64)
    tx_code_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    failed_attempts: int = 0
    redeemed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    token_hash: str | None = Field(default=None, unique=True, max_length=64)
    token_expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # The VC API exchange behind the same QR code (hashes of its id and of its challenge).
    exchange_hash: str | None = Field(default=None, unique=True, max_length=64)
    challenge_hash: str | None = Field(default=None, max_length=64)


class ProofNonceRecord(IssuanceTable, table=True):
    """A c_nonce handed to a wallet, by hash, until a proof uses it or it expires."""

    __tablename__ = "proof_nonces"

    nonce_hash: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
