"""Offerings, enrolments, earned credentials and the messaging tables.

Revision ID: enrolment_0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.schema import create_messaging_tables

revision: str = "enrolment_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "status IN ('accepted', 'waitlisted')"


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "offerings",
        sa.Column("offering_id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(32), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("required_offering_ids", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "enrolments",
        sa.Column("enrolment_id", sa.String(72), primary_key=True),
        sa.Column("offering_id", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(32), nullable=False),
        sa.Column("learner_id", sa.String(72), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("queue_number", sa.Integer()),
        sa.Column("reason", sa.String(64)),
        sa.Column("detail", sa.Text()),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ux_enrolments_active",
        "enrolments",
        ["learner_id", "offering_id"],
        unique=True,
        postgresql_where=sa.text(_ACTIVE),
        sqlite_where=sa.text(_ACTIVE),
    )
    op.create_index("ix_enrolments_offering_status", "enrolments", ["offering_id", "status"])
    op.create_table(
        "earned_credentials",
        sa.Column("credential_id", sa.String(72), primary_key=True),
        sa.Column("learner_id", sa.String(72), nullable=False, index=True),
        sa.Column("offering_id", sa.String(64)),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("earned_credentials")
    op.drop_table("enrolments")
    op.drop_table("offerings")
    op.drop_table("inbox")
    op.drop_table("outbox")
