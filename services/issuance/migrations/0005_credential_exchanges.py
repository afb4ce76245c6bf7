"""The VC API exchange behind a credential offer's QR code (DCC's Learner Credential Wallet).

Revision ID: issuance_0005
Revises: issuance_0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "issuance_0005"
down_revision: str | None = "issuance_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Batch mode: SQLite (the zero-setup fallback) cannot add a constraint to a table in place, so
# Alembic rebuilds it there; on PostgreSQL the same block is plain ALTER TABLE statements.
def upgrade() -> None:
    with op.batch_alter_table("credential_offers") as table:
        table.add_column(sa.Column("exchange_hash", sa.String(64)))
        table.add_column(sa.Column("challenge_hash", sa.String(64)))
        table.create_unique_constraint("credential_offers_exchange_hash_key", ["exchange_hash"])


def downgrade() -> None:
    with op.batch_alter_table("credential_offers") as table:
        table.drop_constraint("credential_offers_exchange_hash_key")
        table.drop_column("challenge_hash")
        table.drop_column("exchange_hash")
