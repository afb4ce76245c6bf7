"""Share links: the name a learner chooses to show on a link (the alliance knows no names).

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("share_links", sa.Column("learner_name", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("share_links", "learner_name")
