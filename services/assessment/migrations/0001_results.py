"""Offerings, enrolments, results and the messaging tables.

Revision ID: assessment_0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.schema import create_messaging_tables

revision: str = "assessment_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "offerings",
        sa.Column("offering_id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "enrolments",
        sa.Column("enrolment_id", sa.String(64), primary_key=True),
        sa.Column("learner_id", sa.String(64), nullable=False, index=True),
        sa.Column("offering_id", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "results",
        sa.Column("result_id", sa.String(64), primary_key=True),
        sa.Column("enrolment_id", sa.String(64), nullable=False),
        sa.Column("offering_id", sa.String(64), nullable=False, index=True),
        sa.Column("partner_id", sa.String(32), nullable=False, index=True),
        sa.Column("learner_id", sa.String(64), nullable=False, index=True),
        sa.Column("supersedes_result_id", sa.String(64)),
        sa.Column("superseded_by_result_id", sa.String(64)),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ux_results_current",
        "results",
        ["enrolment_id"],
        unique=True,
        postgresql_where=sa.text("superseded_by_result_id IS NULL"),
        sqlite_where=sa.text("superseded_by_result_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("results")
    op.drop_table("enrolments")
    op.drop_table("offerings")
    op.drop_table("inbox")
    op.drop_table("outbox")
