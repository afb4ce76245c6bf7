"""Issued credentials, their status lists, and events waiting for a fact.

Revision ID: issuance_0002
Revises: issuance_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.schema import create_deferral_table

revision: str = "issuance_0002"
down_revision: str | None = "issuance_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_deferral_table()
    op.create_table(
        "credentials",
        sa.Column("credential_id", sa.String(64), primary_key=True),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("learner_id", sa.String(64), index=True),
        sa.Column("issuer_partner_id", sa.String(32), nullable=False),
        sa.Column("awarding_partner_id", sa.String(32), nullable=False),
        sa.Column("offering_id", sa.String(64)),
        sa.Column("enrolment_id", sa.String(64)),
        sa.Column("result_id", sa.String(64), unique=True),
        sa.Column("pathway_id", sa.String(64)),
        sa.Column("status_list_index", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text()),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revocation_reason", sa.String(32)),
        sa.UniqueConstraint("issuer_partner_id", "status_list_index", name="uq_credentials_status"),
    )
    op.create_index(
        "ux_credentials_current_enrolment",
        "credentials",
        ["enrolment_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL AND enrolment_id IS NOT NULL"),
        sqlite_where=sa.text("revoked_at IS NULL AND enrolment_id IS NOT NULL"),
    )
    op.create_index(
        "ux_credentials_current_pathway",
        "credentials",
        ["learner_id", "pathway_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL AND pathway_id IS NOT NULL"),
        sqlite_where=sa.text("revoked_at IS NULL AND pathway_id IS NOT NULL"),
    )
    op.create_table(
        "credential_components",
        sa.Column("stacked_credential_id", sa.String(64), primary_key=True),
        sa.Column("component_credential_id", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "status_lists",
        sa.Column("issuer_partner_id", sa.String(32), primary_key=True),
        sa.Column("purpose", sa.String(16), primary_key=True),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("signed", sa.Text()),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("status_lists")
    op.drop_table("credential_components")
    op.drop_table("credentials")
    op.drop_table("deferred_events")
