"""Alembic's environment: runs on the connection `database.migrate()` passes, in its transaction.

Migrations only run through chatui (`ConversationStore.migrate()` or first use), which holds the
database's write lock for the whole upgrade, so two processes starting at once upgrade once.
`render_as_batch` lets future migrations alter SQLite tables (which have no real ALTER).
"""

from __future__ import annotations

from alembic import context

from chatui.conversations.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "chatui's migrations run on a connection chatui provides: call "
        "`await ConversationStore.from_settings(settings).migrate()` instead of the alembic CLI."
    )
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
