"""The part of `ConversationStore` every half of it shares: the engine, migration, transactions.

What must stay true: no query runs before the schema is migrated (each transaction first awaits
`migrate()`, which does the work once per store), and every read of a conversation or message goes
through `rows.owned_*`, which is scoped to the user.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from chatui.config import Settings, get_settings
from chatui.conversations.database import (
    create_engine,
    database_url,
    migrate,
    read_transaction,
    write_transaction,
)
from chatui.conversations.errors import MessageNotFound
from chatui.conversations.rows import (
    load_messages,
    load_tree,
    owned_conversation,
    owned_message,
    to_conversation,
)
from chatui.conversations.values import ConversationDetail, Message


def utc_now() -> datetime:
    return datetime.now(UTC)


class StoreBase:
    """Owns the engine; close it with `close()` or use the store as an async context manager."""

    def __init__(
        self,
        settings: Settings,
        *,
        url: URL | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.url = url or database_url(settings)
        self.engine = create_engine(self.url)
        self.clock = clock
        self._migrated = False
        self._migrate_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Self:
        """The store CHATUI_DATABASE_URL names (default: SQLite at CHATUI_DATA_DIR/chatui.db)."""
        return cls(settings or get_settings())

    async def migrate(self) -> None:
        """Create or upgrade the schema; runs once per store, and implicitly at first use."""
        async with self._migrate_lock:
            if not self._migrated:
                await migrate(self.engine)
                self._migrated = True

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        await self.migrate()
        async with write_transaction(self.engine) as connection:
            yield connection

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        await self.migrate()
        async with read_transaction(self.engine) as connection:
            yield connection

    async def _detail(
        self, connection: AsyncConnection, user: str, conversation_id: str
    ) -> ConversationDetail:
        row = await owned_conversation(connection, user, conversation_id)
        tree = await load_tree(connection, conversation_id)
        path = [node.id for node in tree.active_path()]
        return ConversationDetail(
            to_conversation(row), await load_messages(connection, user, tree, path)
        )

    async def _message(self, connection: AsyncConnection, user: str, message_id: str) -> Message:
        row = await owned_message(connection, user, message_id)
        tree = await load_tree(connection, row.conversation_id)
        found = await load_messages(connection, user, tree, [message_id])
        if not found:  # deleted between the reads (PostgreSQL reads are not one snapshot)
            raise MessageNotFound()
        return found[0]
