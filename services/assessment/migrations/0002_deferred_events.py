"""Submissions that wait for their enrolment or offering.

Revision ID: assessment_0002
Revises: assessment_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

from shared.db.schema import create_deferral_table

revision: str = "assessment_0002"
down_revision: str | None = "assessment_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_deferral_table()


def downgrade() -> None:
    op.drop_table("deferred_events")
