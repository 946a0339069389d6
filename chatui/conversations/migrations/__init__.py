"""Alembic migrations of the conversation database, applied by `database.migrate()` at first use."""
