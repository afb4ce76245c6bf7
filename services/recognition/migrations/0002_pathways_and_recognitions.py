"""Pathway definitions, progress and completions; offerings; recognition rules and requests;
the skills of each credential; events waiting for a credential.

Revision ID: recognition_0002
Revises: recognition_0001
Create Date: 2026-11-24
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.schema import create_deferral_table

revision: str = "recognition_0002"
down_revision: str | None = "recognition_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    create_deferral_table()
    # Credentials recorded before this revision have no skills known; they match no rule
    # that asks for learning outcomes, and staff decide.
    op.add_column(
        "credentials", sa.Column("skill_uris", sa.Text(), nullable=False, server_default="[]")
    )
    op.create_table(
        "pathway_definitions",
        sa.Column("pathway_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("owner_partner_id", sa.String(32), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        _at("defined_at"),
    )
    op.create_table(
        "pathway_progress",
        sa.Column("learner_id", sa.String(64), primary_key=True),
        sa.Column("pathway_id", sa.String(64), primary_key=True),
        sa.Column("standing", sa.Text(), nullable=False),
        _at("changed_at"),
    )
    op.create_table(
        "pathway_completions",
        sa.Column("completion_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("learner_id", sa.String(64), nullable=False, index=True),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("pathway_version", sa.Integer(), nullable=False),
        sa.Column("component_ids", sa.Text(), nullable=False),
        _at("completed_at"),
        sa.Column("stacked_credential_id", sa.String(64)),
        _at("lost_at", nullable=True),
        sa.Column("lost_reason", sa.Text()),
        sa.Column("revoked_component_ids", sa.Text()),
        _at("revocation_announced_at", nullable=True),
    )
    op.create_index(
        "ux_completions_standing",
        "pathway_completions",
        ["learner_id", "pathway_id"],
        unique=True,
        postgresql_where=sa.text("lost_at IS NULL"),
        sqlite_where=sa.text("lost_at IS NULL"),
    )
    op.create_table(
        "offerings",
        sa.Column("offering_id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("ects", sa.Float(), nullable=False),
        sa.Column("eqf_level", sa.Integer(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        _at("changed_at"),
    )
    op.create_table(
        "recognition_rules",
        sa.Column("partner_id", sa.String(32), primary_key=True),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("updated_at"),
    )
    op.create_table(
        "recognitions",
        sa.Column("recognition_id", sa.String(64), primary_key=True),
        sa.Column("learner_id", sa.String(64), nullable=False, index=True),
        sa.Column("credential_id", sa.String(64), nullable=False, index=True),
        sa.Column("recognising_partner_id", sa.String(32), nullable=False, index=True),
        sa.Column("programme", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("automatic", sa.Boolean()),
        sa.Column("reasons", sa.Text(), nullable=False),
        _at("requested_at"),
        _at("decided_at", nullable=True),
        _at("withdrawn_at", nullable=True),
    )


def downgrade() -> None:
    for table in (
        "recognitions",
        "recognition_rules",
        "offerings",
        "pathway_completions",
        "pathway_progress",
        "pathway_definitions",
        "deferred_events",
    ):
        op.drop_table(table)
    op.drop_column("credentials", "skill_uris")
