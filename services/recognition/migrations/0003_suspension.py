"""When a credential was suspended (cleared when it is reinstated).

Revision ID: recognition_0003
Revises: recognition_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "recognition_0003"
down_revision: str | None = "recognition_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("suspended_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("credentials", "suspended_at")
