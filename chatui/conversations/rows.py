"""Between rows and values: input checks, user-scoped lookups, tree writes, row-to-value conversion.

What must stay true: every lookup of a conversation or message is filtered by the user id in the
same query, and a miss raises the same `...NotFound` whether the id never existed, was deleted, or
belongs to someone else. Nothing here commits: the store owns the transactions, and the writers
(`append_message`, `activate`) run inside its write transaction, under the conversation's lock.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatui.conversations.branches import Node, Tree
from chatui.conversations.errors import ConversationNotFound, MessageNotFound, invalid_id
from chatui.conversations.schema import USER_ID_CHARS, conversations, feedback, messages
from chatui.conversations.values import (
    DEFAULT_TITLE,
    Citation,
    Conversation,
    Feedback,
    Message,
    Usage,
)
from chatui.errors import InputError

_ID = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """A new conversation or message id: a random UUID4 as 32 hex characters."""
    return uuid.uuid4().hex


def check_user(user: str) -> str:
    """An opaque user id: any non-blank string up to 255 characters."""
    if not isinstance(user, str) or not user.strip() or len(user) > USER_ID_CHARS:
        raise InputError(
            f"The user id must be 1 to {USER_ID_CHARS} characters; check the user header "
            "(CHATUI_USER_HEADER) your proxy sets.",
            code="invalid_user",
        )
    return user


def check_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise invalid_id(kind, str(value))
    return value


async def owned_conversation(
    connection: AsyncConnection, user: str, conversation_id: str, *, lock: bool = False
) -> Row[Any]:
    """The user's conversation row; `lock` takes its row lock (PostgreSQL; SQLite is locked)."""
    query = select(conversations).where(
        conversations.c.id == check_id("conversation", conversation_id),
        conversations.c.user_id == check_user(user),
    )
    row = (await connection.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise ConversationNotFound()
    return row


async def owned_message(
    connection: AsyncConnection, user: str, message_id: str, *, lock: bool = False
) -> Row[Any]:
    """The user's message row (any conversation of theirs); `lock` locks its conversation."""
    query = (
        select(messages)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(
            messages.c.id == check_id("message", message_id),
            conversations.c.user_id == check_user(user),
        )
    )
    row = (await connection.execute(query)).first()
    if row is not None and lock and connection.dialect.name != "sqlite":
        # Lock the conversation, then read again: another writer may have changed the message.
        try:
            await owned_conversation(connection, user, row.conversation_id, lock=True)
        except ConversationNotFound:
            raise MessageNotFound() from None
        row = (await connection.execute(query)).first()
    if row is None:
        raise MessageNotFound()
    return row


async def load_tree(connection: AsyncConnection, conversation_id: str) -> Tree:
    """The conversation's message tree, without contents (cheap even with many branches)."""
    columns = (messages.c.id, messages.c.parent_id, messages.c.seq, messages.c.active)
    rows = await connection.execute(
        select(*columns).where(messages.c.conversation_id == conversation_id)
    )
    return Tree(Node(row.id, row.parent_id, row.seq, bool(row.active)) for row in rows)


async def load_messages(
    connection: AsyncConnection, user: str, tree: Tree, ids: Sequence[str]
) -> tuple[Message, ...]:
    """Full messages for `ids` (in that order), with the user's feedback and alternatives."""
    if not ids:
        return ()
    rows = {
        row.id: row
        for row in await connection.execute(select(messages).where(messages.c.id.in_(ids)))
    }
    verdicts = {
        row.message_id: Feedback(row.rating, row.comment, row.updated_at)
        for row in await connection.execute(
            select(feedback).where(feedback.c.message_id.in_(ids), feedback.c.user_id == user)
        )
    }
    return tuple(
        to_message(
            rows[message_id],
            alternatives=[node.id for node in tree.siblings(message_id)],
            verdict=verdicts.get(message_id),
        )
        for message_id in ids
        if message_id in rows
    )


async def append_message(
    connection: AsyncConnection,
    conversation: Row[Any],
    tree: Tree,
    parent_id: str | None,
    now: datetime,
    **values: object,
) -> str:
    """Insert the next message under `parent_id`, active, on the active path; returns its id."""
    for node in tree.to_activate(parent_id) if parent_id is not None else ():
        await activate(connection, conversation.id, node)
    await connection.execute(
        update(messages).where(siblings_of(conversation.id, parent_id)).values(active=False)
    )
    seq = conversation.message_count + 1
    message_id = new_id()
    await connection.execute(
        insert(messages).values(
            id=message_id,
            conversation_id=conversation.id,
            parent_id=parent_id,
            seq=seq,
            active=True,
            created_at=now,
            updated_at=now,
            **{"state": "complete", **values},
        )
    )
    await connection.execute(
        update(conversations)
        .where(conversations.c.id == conversation.id)
        .values(message_count=seq, updated_at=now)
    )
    return message_id


async def activate(connection: AsyncConnection, conversation_id: str, node: Node) -> None:
    """Make `node` the active one of its siblings."""
    await connection.execute(
        update(messages)
        .where(siblings_of(conversation_id, node.parent_id))
        .values(active=messages.c.id == node.id)
    )


def siblings_of(conversation_id: str, parent_id: str | None) -> Any:
    same_parent = (
        messages.c.parent_id.is_(None) if parent_id is None else messages.c.parent_id == parent_id
    )
    return (messages.c.conversation_id == conversation_id) & same_parent


def to_conversation(row: Row[Any]) -> Conversation:
    return Conversation(row.id, row.title or DEFAULT_TITLE, row.created_at, row.updated_at)


def to_message(
    row: Row[Any], *, alternatives: Iterable[str] = (), verdict: Feedback | None = None
) -> Message:
    usage = None
    if row.input_tokens is not None and row.output_tokens is not None:
        usage = Usage(row.input_tokens, row.output_tokens, bool(row.usage_estimated))
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        parent_id=row.parent_id,
        role=row.role,
        content=row.content,
        created_at=row.created_at,
        updated_at=row.updated_at,
        state=row.state,
        provider=row.provider,
        model=row.model,
        usage=usage,
        ttft_ms=row.ttft_ms,
        duration_ms=row.duration_ms,
        citations=citations_from_json(row.citations),
        error=row.error,
        feedback=verdict,
        alternative_ids=tuple(alternatives) or (row.id,),
    )


def citations_to_json(citations: Sequence[Citation]) -> list[dict[str, object]]:
    return [asdict(citation) for citation in citations]


def citations_from_json(data: object) -> tuple[Citation, ...]:
    if not isinstance(data, list):
        return ()
    return tuple(
        Citation(
            marker=int(item["marker"]),
            source=str(item["source"]),
            title=str(item["title"]),
            snippet=str(item["snippet"]),
            score=float(item["score"]),
            chunk_id=str(item["chunk_id"]),
        )
        for item in data
        if isinstance(item, Mapping)
    )
