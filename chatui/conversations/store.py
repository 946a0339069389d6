"""`ConversationStore`: every conversation, question, answer and verdict, stored as it happens.

One async class over one database (see `database.py`); the schema is migrated at first use. Every
method takes the user id first and only ever sees that user's data. Writes that depend on what is
stored (append after the last message, activate a branch) run under the conversation's write lock,
so two tabs cannot interleave them: the second waits, then either succeeds on top of the first or
gets a `ConversationConflict` telling it to reload. Nothing is lost and nothing is stored twice.

The branching model (details in `branches.py`): messages form a tree by `parent_id`; siblings are
alternatives (regenerated answers, edited questions), one per group is active, and the active path
is what the person sees. Regenerate = `start_assistant_message` again for the same question; edit =
`edit_user_message`, a sibling question; `select_alternative` flips between them.

Deleting a conversation is a real delete (messages and feedback too): nothing is kept that the
person asked to remove. Search is a case-insensitive `LIKE` over titles and the contents of every
stored message (case folding of non-ASCII letters depends on the database: ASCII-only in SQLite).
"""

from __future__ import annotations

from sqlalchemy import delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatui.conversations import export
from chatui.conversations.alternatives import AlternativeWrites
from chatui.conversations.messages import MessageWrites
from chatui.conversations.rows import check_user, new_id, owned_conversation, to_conversation
from chatui.conversations.schema import TITLE_MAX_CHARS, conversations, feedback, messages
from chatui.conversations.values import Conversation, ConversationDetail
from chatui.errors import InputError

MAX_LIST_LIMIT = 500
MAX_QUERY_CHARS = 500


class ConversationStore(MessageWrites, AlternativeWrites):
    """The conversation history of every user, in one database.

    `ConversationStore(settings, url=None, clock=utc_now)`, or `ConversationStore.from_settings()`;
    close it with `await store.close()` (or `async with`). The rest of the API is split by topic:
    `messages.MessageWrites` (questions, answers), `alternatives.AlternativeWrites` (regenerate,
    edit, feedback), `base.StoreBase` (migrate, close).
    """

    # Conversations.

    async def create_conversation(self, user: str, title: str | None = None) -> Conversation:
        """A new, empty conversation; without a title, the first question will name it."""
        check_user(user)
        clean = _check_title(title) if title is not None else None
        now = self.clock()
        conversation_id = new_id()
        async with self._write() as connection:
            await connection.execute(
                insert(conversations).values(
                    id=conversation_id, user_id=user, title=clean, created_at=now, updated_at=now
                )
            )
            return to_conversation(await owned_conversation(connection, user, conversation_id))

    async def list_conversations(
        self, user: str, query: str | None = None, limit: int = 50
    ) -> tuple[Conversation, ...]:
        """The user's conversations, most recently active first; `query` searches titles and
        every message (case-insensitive substring)."""
        check_user(user)
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InputError(f"limit must be 1 to {MAX_LIST_LIMIT}.", code="invalid_request")
        statement = select(conversations).where(conversations.c.user_id == user)
        if query is not None and query.strip():
            if len(query) > MAX_QUERY_CHARS:
                raise InputError(
                    f"Search for at most {MAX_QUERY_CHARS} characters.", code="query_too_long"
                )
            pattern = "%" + _escape_like(query.strip()) + "%"
            # Correlated, so only this user's conversations' messages are scanned.
            in_messages = exists().where(
                messages.c.conversation_id == conversations.c.id,
                messages.c.content.ilike(pattern, escape="\\"),
            )
            statement = statement.where(
                or_(conversations.c.title.ilike(pattern, escape="\\"), in_messages)
            )
        statement = statement.order_by(
            conversations.c.updated_at.desc(), conversations.c.created_at.desc()
        ).limit(limit)
        async with self._read() as connection:
            return tuple(to_conversation(row) for row in await connection.execute(statement))

    async def get_conversation(self, user: str, conversation_id: str) -> ConversationDetail:
        """The conversation and its active path, each message with its alternatives' ids."""
        async with self._read() as connection:
            return await self._detail(connection, user, conversation_id)

    async def rename_conversation(
        self, user: str, conversation_id: str, title: str
    ) -> Conversation:
        """A new title (it does not change the conversation's place in the recency order)."""
        clean = _check_title(title)
        async with self._write() as connection:
            await owned_conversation(connection, user, conversation_id, lock=True)
            await connection.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(title=clean)
            )
            return to_conversation(await owned_conversation(connection, user, conversation_id))

    async def delete_conversation(self, user: str, conversation_id: str) -> None:
        """Delete the conversation with all its messages and feedback, for good."""
        async with self._write() as connection:
            await owned_conversation(connection, user, conversation_id, lock=True)
            await _delete_messages(connection, conversation_id)
            await connection.execute(
                delete(conversations).where(conversations.c.id == conversation_id)
            )

    # Exports.

    async def export_markdown(self, user: str, conversation_id: str) -> str:
        """The active path as Markdown, with each answer's sources and numbers."""
        return export.export_markdown(
            await self.get_conversation(user, conversation_id), self.clock()
        )

    async def export_json(self, user: str, conversation_id: str) -> str:
        """The active path as versioned JSON (shape documented in `export.py`)."""
        return export.export_json(await self.get_conversation(user, conversation_id), self.clock())


async def _delete_messages(connection: AsyncConnection, conversation_id: str) -> None:
    ids = select(messages.c.id).where(messages.c.conversation_id == conversation_id)
    await connection.execute(delete(feedback).where(feedback.c.message_id.in_(ids)))
    await connection.execute(delete(messages).where(messages.c.conversation_id == conversation_id))


def _check_title(title: str) -> str:
    clean = " ".join(title.split()) if isinstance(title, str) else ""
    if not clean or len(clean) > TITLE_MAX_CHARS:
        raise InputError(
            f"A title must be 1 to {TITLE_MAX_CHARS} characters (not only spaces).",
            code="invalid_title",
        )
    return clean


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
