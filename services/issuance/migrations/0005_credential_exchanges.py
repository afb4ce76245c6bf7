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


def upgrade() -> None:
    op.add_column("credential_offers", sa.Column("exchange_hash", sa.String(64)))
    op.add_column("credential_offers", sa.Column("challenge_hash", sa.String(64)))
    op.create_unique_constraint(
        "credential_offers_exchange_hash_key", "credential_offers", ["exchange_hash"]
    )


def downgrade() -> None:
    op.drop_constraint("credential_offers_exchange_hash_key", "credential_offers")
    op.drop_column("credential_offers", "challenge_hash")
    op.drop_column("credential_offers", "exchange_hash")
