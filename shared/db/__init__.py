"""Database access every service shares: engine, unit of work, outbox, inbox, migrations."""
