"""The branch half of `ConversationStore`: alternatives of an answer, edited questions, feedback.

What must stay true: selecting or editing never deletes anything; the old branch stays stored and
can be selected again. Feedback is one row per (user, answer): setting it again replaces it.
"""

from __future__ import annotations

from sqlalchemy import insert, update

from chatui.chat_request import check_question
from chatui.conversations.base import StoreBase
from chatui.conversations.rows import (
    activate,
    append_message,
    load_messages,
    load_tree,
    owned_conversation,
    owned_message,
)
from chatui.conversations.schema import feedback
from chatui.conversations.values import RATINGS, ConversationDetail, Feedback, Message, Rating
from chatui.errors import InputError

MAX_COMMENT_CHARS = 2_000


class AlternativeWrites(StoreBase):
    """Regenerated answers and edited questions as alternatives; feedback on answers."""

    async def list_alternatives(self, user: str, message_id: str) -> tuple[Message, ...]:
        """The message and its alternatives (same parent), oldest first."""
        async with self._read() as connection:
            row = await owned_message(connection, user, message_id)
            tree = await load_tree(connection, row.conversation_id)
            siblings = [node.id for node in tree.siblings(message_id)]
            return await load_messages(connection, user, tree, siblings)

    async def select_alternative(self, user: str, message_id: str) -> ConversationDetail:
        """Make this message the active one among its alternatives; returns the new path."""
        async with self._write() as connection:
            row = await owned_message(connection, user, message_id, lock=True)
            tree = await load_tree(connection, row.conversation_id)
            for node in tree.to_activate(message_id):
                await activate(connection, row.conversation_id, node)
            return await self._detail(connection, user, row.conversation_id)

    async def edit_user_message(self, user: str, message_id: str, new_content: str) -> str:
        """A new version of a question, as its alternative: the active path now follows it (the
        old question and everything after it stay stored). Returns the new question's id."""
        check_question(new_content, (), self.settings)
        async with self._write() as connection:
            row = await owned_message(connection, user, message_id, lock=True)
            if row.role != "user":
                raise InputError(
                    "Only a question can be edited; to get another answer, regenerate it.",
                    code="not_a_question",
                )
            conversation = await owned_conversation(connection, user, row.conversation_id)
            tree = await load_tree(connection, row.conversation_id)
            return await append_message(
                connection,
                conversation,
                tree,
                row.parent_id,
                self.clock(),
                role="user",
                content=new_content,
            )

    async def set_feedback(
        self, user: str, message_id: str, rating: Rating, comment: str | None = None
    ) -> Feedback:
        """Thumbs up or down on an answer, with an optional comment; the latest one wins."""
        if rating not in RATINGS:
            raise InputError("A rating is 'up' or 'down'.", code="invalid_rating")
        comment = (comment.strip() or None) if comment is not None else None
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise InputError(
                f"The comment is {len(comment):,} characters; the limit is "
                f"{MAX_COMMENT_CHARS:,}. Shorten it.",
                code="comment_too_long",
                http_status=413,
            )
        verdict = Feedback(rating, comment, self.clock())
        values = {"rating": rating, "comment": comment, "updated_at": verdict.updated_at}
        async with self._write() as connection:
            row = await owned_message(connection, user, message_id, lock=True)
            if row.role != "assistant":
                raise InputError("Feedback is for answers, not questions.", code="not_an_answer")
            mine = (feedback.c.message_id == message_id) & (feedback.c.user_id == user)
            result = await connection.execute(update(feedback).where(mine).values(**values))
            if result.rowcount == 0:
                await connection.execute(
                    insert(feedback).values(message_id=message_id, user_id=user, **values)
                )
        return verdict
