"""Credential offers to wallets (OpenID4VCI) and the proof nonces handed to wallets.

Revision ID: issuance_0004
Revises: issuance_0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "issuance_0004"
down_revision: str | None = "issuance_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_offers",
        sa.Column("offer_id", sa.String(64), primary_key=True),
        sa.Column("credential_id", sa.String(64), nullable=False),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("tx_code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True)),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_credential_offers_credential_id", "credential_offers", ["credential_id"])
    op.create_table(
        "proof_nonces",
        sa.Column("nonce_hash", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_proof_nonces_expires_at", "proof_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_table("proof_nonces")
    op.drop_table("credential_offers")
