"""The message half of `ConversationStore`: questions and streaming answers, as they happen.

What must stay true:

- A new message is appended under the conversation's write lock, numbered `seq` = count + 1, and
  made the active one among its siblings (its ancestors too), in one transaction.
- `update_assistant_message` is one UPDATE statement (it runs about once a second per answer) and
  only ever touches an answer that is still `streaming`: a finished answer is never overwritten.
- Two tabs cannot both append to the same place: the second gets `conversation_busy` (the last
  question waits for its answer) or `conversation_changed` (its `expected_leaf_id` is out of date).
  A question or a streaming answer left alone for `STALE_AFTER` no longer blocks anyone (its tab
  died while the server lived on): the question is replaced by the new one as an alternative, the
  answer is marked `interrupted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatui.chat_request import check_question
from chatui.conversations.base import StoreBase
from chatui.conversations.branches import Node
from chatui.conversations.errors import ConversationConflict
from chatui.conversations.rows import (
    append_message,
    citations_to_json,
    load_tree,
    owned_conversation,
    owned_message,
)
from chatui.conversations.schema import conversations, messages
from chatui.conversations.values import (
    FINISHED_STATES,
    Citation,
    FinishedState,
    Message,
    Usage,
    title_from_question,
)
from chatui.errors import InputError

STALE_AFTER = timedelta(minutes=2)
MAX_ANSWER_CHARS = 1_000_000


class MessageWrites(StoreBase):
    """Questions and answers: the half of `ConversationStore` that follows a chat as it happens."""

    async def add_user_message(
        self, user: str, conversation_id: str, content: str, *, expected_leaf_id: str | None = None
    ) -> str:
        """Append a question at the end of the active path; returns its id.

        `expected_leaf_id`: the last message id the caller shows (`ConversationDetail.leaf_id`);
        when given and no longer the last, nothing is stored and `conversation_changed` is raised.
        """
        check_question(content, (), self.settings)
        async with self._write() as connection:
            conversation = await owned_conversation(connection, user, conversation_id, lock=True)
            tree = await load_tree(connection, conversation_id)
            path = tree.active_path()
            leaf = path[-1] if path else None
            if expected_leaf_id is not None and (leaf is None or leaf.id != expected_leaf_id):
                raise ConversationConflict(
                    "This conversation changed in another tab or window since it was loaded. "
                    "Reload it to see the new messages, then send again.",
                    code="conversation_changed",
                )
            now = self.clock()
            parent = await self._unblock(connection, leaf, now)
            message_id = await append_message(
                connection, conversation, tree, parent, now, role="user", content=content
            )
            if conversation.title is None:
                await connection.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(title=title_from_question(content))
                )
            return message_id

    async def _unblock(
        self, connection: AsyncConnection, leaf: Node | None, now: datetime
    ) -> str | None:
        """The parent of a new question after `leaf`, or a `conversation_busy` conflict."""
        if leaf is None:
            return None
        row = (await connection.execute(select(messages).where(messages.c.id == leaf.id))).one()
        if row.role == "user":
            if now - row.created_at < STALE_AFTER:
                raise ConversationConflict(
                    "The last question in this conversation is still waiting for its answer "
                    "(perhaps in another tab). Wait for the answer, then send again.",
                    code="conversation_busy",
                )
            return leaf.parent_id  # an abandoned question: the new one becomes its alternative
        if row.state == "streaming":
            if now - row.updated_at < STALE_AFTER:
                raise ConversationConflict(
                    "An answer is still being written in this conversation (perhaps in another "
                    "tab). Wait for it or stop it, then send again.",
                    code="conversation_busy",
                )
            await connection.execute(
                update(messages)
                .where(messages.c.id == leaf.id)
                .values(state="interrupted", updated_at=now)
            )
        return leaf.id

    async def start_assistant_message(
        self,
        user: str,
        conversation_id: str,
        parent_user_message_id: str,
        provider: str,
        model: str,
    ) -> str:
        """A new, empty `streaming` answer to a question; returns its id.

        Called again for the same question, this is "regenerate": the earlier answers stay as
        alternatives and the new one becomes the active one.
        """
        async with self._write() as connection:
            conversation = await owned_conversation(connection, user, conversation_id, lock=True)
            question = await owned_message(connection, user, parent_user_message_id)
            if question.conversation_id != conversation_id or question.role != "user":
                raise InputError(
                    "An answer must follow a question of the same conversation; pass the id of "
                    "the user message it answers.",
                    code="invalid_parent",
                )
            tree = await load_tree(connection, conversation_id)
            return await append_message(
                connection,
                conversation,
                tree,
                question.id,
                self.clock(),
                role="assistant",
                content="",
                state="streaming",
                provider=provider[:100],
                model=model[:200],
            )

    async def update_assistant_message(
        self,
        user: str,
        message_id: str,
        content: str,
        *,
        citations: Sequence[Citation] | None = None,
    ) -> None:
        """Save the answer so far (one UPDATE); call it about once a second while streaming."""
        values: dict[str, object] = {"content": _check_answer(content), "updated_at": self.clock()}
        if citations is not None:
            values["citations"] = citations_to_json(citations)
        async with self._write() as connection:
            await self._update_streaming(connection, user, message_id, values)

    async def finish_assistant_message(
        self,
        user: str,
        message_id: str,
        *,
        state: FinishedState,
        content: str,
        usage: Usage | None = None,
        ttft_ms: float | None = None,
        duration_ms: float | None = None,
        citations: Sequence[Citation] | None = None,
        error: str | None = None,
    ) -> Message:
        """Store the final answer and its numbers; `citations=None` keeps the ones saved so far."""
        if state not in FINISHED_STATES:
            raise InputError(
                f"An answer finishes as one of {', '.join(FINISHED_STATES)}, not {state!r}.",
                code="invalid_state",
            )
        now = self.clock()
        values: dict[str, object] = {
            "state": state,
            "content": _check_answer(content),
            "updated_at": now,
            "ttft_ms": ttft_ms,
            "duration_ms": duration_ms,
            "error": error[:4000] if error else None,
        }
        if usage is not None:
            values |= {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "usage_estimated": usage.estimated,
            }
        if citations is not None:
            values["citations"] = citations_to_json(citations)
        async with self._write() as connection:
            await self._update_streaming(connection, user, message_id, values)
            message = await self._message(connection, user, message_id)
            await connection.execute(
                update(conversations)
                .where(conversations.c.id == message.conversation_id)
                .values(updated_at=now)
            )
            return message

    async def _update_streaming(
        self, connection: AsyncConnection, user: str, message_id: str, values: dict[str, object]
    ) -> None:
        owned = exists().where(
            conversations.c.id == messages.c.conversation_id, conversations.c.user_id == user
        )
        result = await connection.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.state == "streaming", owned)
            .values(**values)
        )
        if result.rowcount != 1:
            row = await owned_message(connection, user, message_id)  # not theirs: not found
            raise ConversationConflict(
                f"This answer is already {row.state} (stopped in another tab, or the server "
                "restarted); reload the conversation.",
                code="message_finished",
            )

    async def mark_interrupted_streams(self, *, quiet_for: timedelta | None = None) -> int:
        """At server start: every answer still `streaming` becomes `interrupted`; returns how many.

        The text saved by the last `update_assistant_message` stays, so a restart loses at most
        about a second of an answer in flight. With several server processes on one database, pass
        `quiet_for` (e.g. a minute) so that only answers no process has saved for that long are
        marked, not the ones another process is still streaming.
        """
        now = self.clock()
        condition = messages.c.state == "streaming"
        if quiet_for is not None:
            condition &= messages.c.updated_at < now - quiet_for
        async with self._write() as connection:
            result = await connection.execute(
                update(messages).where(condition).values(state="interrupted", updated_at=now)
            )
            return int(result.rowcount)

    async def get_message(self, user: str, message_id: str) -> Message:
        async with self._read() as connection:
            return await self._message(connection, user, message_id)


def _check_answer(content: str) -> str:
    if len(content) > MAX_ANSWER_CHARS:
        raise InputError(
            f"The answer is {len(content):,} characters; chatui stores at most "
            f"{MAX_ANSWER_CHARS:,}. Lower CHATUI_MAX_OUTPUT_TOKENS.",
            code="message_too_long",
            http_status=413,
        )
    return content
