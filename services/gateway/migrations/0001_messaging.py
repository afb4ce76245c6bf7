"""The messaging tables; the gateway keeps no data of its own yet.

Revision ID: gateway_0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

from shared.db.schema import create_messaging_tables

revision: str = "gateway_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
