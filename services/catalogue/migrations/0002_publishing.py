"""Partner publishing through the API: versions emitted, and field/skill search columns.

Revision ID: catalogue_0002
Revises: catalogue_0001
Create Date: 2026-11-24
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalogue_0002"
down_revision: str | None = "catalogue_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offering_versions",
        sa.Column("offering_id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("emitted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column(
        "offerings", sa.Column("fields_of_study", sa.Text(), nullable=False, server_default="")
    )
    op.add_column("offerings", sa.Column("skills", sa.Text(), nullable=False, server_default=""))
    # Listings saved before this revision get the new columns from their stored snapshot.
    offerings = sa.table(
        "offerings",
        sa.column("offering_id", sa.String),
        sa.column("snapshot", sa.Text),
        sa.column("fields_of_study", sa.Text),
        sa.column("skills", sa.Text),
    )
    connection = op.get_bind()
    for offering_id, snapshot in connection.execute(
        sa.select(offerings.c.offering_id, offerings.c.snapshot)
    ):
        data = json.loads(snapshot)
        uris = [o["esco_skill_uri"] for o in data["learning_outcomes"] if "esco_skill_uri" in o]
        connection.execute(
            offerings.update()
            .where(offerings.c.offering_id == offering_id)
            .values(
                fields_of_study="\n".join(f.lower() for f in data["fields_of_study"]),
                skills="\n".join(u.lower() for u in uris),
            )
        )


def downgrade() -> None:
    op.drop_column("offerings", "skills")
    op.drop_column("offerings", "fields_of_study")
    op.drop_table("offering_versions")
