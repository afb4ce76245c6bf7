"""Signed credentials compressed with LZ4 rather than PostgreSQL's own pglz.

A credential document (6.4 KB for a micro-credential, 24.5 KB for a stacked one, in `make
bench`) is compressed as it is stored: writing one was the longest statement of a journey on
PostgreSQL (292-358 µs of execution each at capacity, as `pg_stat_statements` times it).
Stored with LZ4, the same documents took the server 90-100 µs of CPU an insert against
223-227 with pglz, read back in 57 µs against 60-83, in 15% less space (3,000 each, this
machine). Rows already stored keep their pglz form; PostgreSQL reads both. A server built
without LZ4 keeps pglz (a notice says so): the choice is only about speed.

Revision ID: issuance_0006
Revises: issuance_0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "issuance_0006"
down_revision: str | None = "issuance_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _compress_with(method: str) -> None:
    # SQLite (the unit tests' database) stores text as it is given.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        DO $$ BEGIN
            ALTER TABLE credentials ALTER COLUMN document SET COMPRESSION {method};
        EXCEPTION WHEN feature_not_supported THEN
            RAISE NOTICE 'credential documents stay compressed with pglz: %', SQLERRM;
        END $$
        """
    )


def upgrade() -> None:
    _compress_with("lz4")


def downgrade() -> None:
    _compress_with("pglz")
