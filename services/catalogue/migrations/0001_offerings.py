"""Offerings and the messaging tables.

Revision ID: catalogue_0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.schema import create_messaging_tables

revision: str = "catalogue_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "offerings",
        sa.Column("offering_id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(32), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("eqf_level", sa.Integer(), nullable=False, index=True),
        sa.Column("ects", sa.Float(), nullable=False),
        sa.Column("participation_mode", sa.String(32), nullable=False),
        sa.Column("countries", sa.String(256), nullable=False),
        sa.Column("languages", sa.String(256), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("offerings")
    op.drop_table("inbox")
    op.drop_table("outbox")
