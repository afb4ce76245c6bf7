"""Whether an earned credential is suspended: it meets no prerequisite while it is.

Revision ID: enrolment_0002
Revises: enrolment_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "enrolment_0002"
down_revision: str | None = "enrolment_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "earned_credentials",
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("earned_credentials", "suspended")
