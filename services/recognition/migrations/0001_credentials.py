"""Learners' credential ledger and the messaging tables.

Revision ID: recognition_0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.schema import create_messaging_tables

revision: str = "recognition_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "credentials",
        sa.Column("credential_id", sa.String(64), primary_key=True),
        sa.Column("learner_id", sa.String(64), nullable=False, index=True),
        sa.Column("offering_id", sa.String(64)),
        sa.Column("pathway_id", sa.String(64)),
        sa.Column("awarding_partner_id", sa.String(32), nullable=False),
        sa.Column("ects", sa.Float(), nullable=False),
        sa.Column("eqf_level", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revocation_reason", sa.String(64)),
    )


def downgrade() -> None:
    op.drop_table("credentials")
    op.drop_table("inbox")
    op.drop_table("outbox")
