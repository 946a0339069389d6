"""The tables, as SQLAlchemy Core metadata: what the migrations must produce, exactly.

A test migrates an empty database and asks Alembic to compare it with this metadata, so a change
here without a migration in `migrations/versions/` fails the suite (its diff shows what to write).
What must stay true:

- Times are stored as naive UTC (portable across SQLite and PostgreSQL) and read back aware.
- `messages.seq` numbers a conversation's messages 1, 2, 3... under the conversation's write lock;
  the unique (conversation_id, seq) constraint makes a duplicated insert impossible.
- Deleting a conversation deletes its messages and their feedback (`ON DELETE CASCADE`, and the
  store also deletes them explicitly, so nothing depends on SQLite's foreign_keys pragma).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

ID_CHARS = 32
USER_ID_CHARS = 255
TITLE_MAX_CHARS = 200

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("chatui stores aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


conversations = Table(
    "conversations",
    metadata,
    Column("id", String(ID_CHARS), primary_key=True),
    Column("user_id", String(USER_ID_CHARS), nullable=False),
    Column("title", String(TITLE_MAX_CHARS), nullable=True),  # None until the first question
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("message_count", Integer, nullable=False, server_default="0"),
    Index(None, "user_id", "updated_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(ID_CHARS), primary_key=True),
    Column(
        "conversation_id",
        String(ID_CHARS),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("parent_id", String(ID_CHARS), ForeignKey("messages.id", ondelete="CASCADE")),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("content", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("provider", String(100)),
    Column("model", String(200)),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("usage_estimated", Boolean),
    Column("ttft_ms", Float),
    Column("duration_ms", Float),
    Column("citations", JSON),
    Column("error", Text),
    CheckConstraint("role IN ('user', 'assistant')", name="role"),
    CheckConstraint(
        "state IN ('streaming', 'complete', 'stopped', 'error', 'interrupted')", name="state"
    ),
    UniqueConstraint("conversation_id", "seq"),
    Index(None, "conversation_id", "parent_id"),
    Index(None, "state"),
)

feedback = Table(
    "feedback",
    metadata,
    Column(
        "message_id",
        String(ID_CHARS),
        ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", String(USER_ID_CHARS), primary_key=True),
    Column("rating", String(8), nullable=False),
    Column("comment", Text),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("rating IN ('up', 'down')", name="rating"),
)
