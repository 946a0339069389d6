"""Fixtures for the conversation store: a real SQLite file in tmp_path and a clock tests can move.

The clock advances one millisecond per reading, so "most recent first" is deterministic however
fast the machine; tests jump it forward to make a question or an answer stale.

The same tests run on PostgreSQL when CONVERSATIONS_TEST_POSTGRES_URL names a database they may
empty before each test (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/chatui_test; needs
asyncpg: pip install 'chatui[postgres]'). Tests of SQLite specifics then skip (`sqlite_only`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from chatui.config import Settings
from chatui.conversations import ConversationStore
from tests.conftest import test_settings


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


POSTGRES_URL = os.environ.get("CONVERSATIONS_TEST_POSTGRES_URL")


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    if POSTGRES_URL is None:
        return test_settings(tmp_path, max_message_chars=200)
    engine = create_async_engine(POSTGRES_URL, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return test_settings(tmp_path, max_message_chars=200, database_url=POSTGRES_URL)


@pytest.fixture
def sqlite_only() -> None:
    if POSTGRES_URL is not None:
        pytest.skip("about SQLite specifically (CONVERSATIONS_TEST_POSTGRES_URL is set)")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(settings: Settings, clock: FakeClock) -> AsyncIterator[ConversationStore]:
    store = ConversationStore(settings, clock=clock)
    try:
        yield store
    finally:
        await store.close()


async def answered(
    store: ConversationStore, user: str, conversation_id: str, question: str, answer: str
) -> tuple[str, str]:
    """Ask and answer one turn; returns (question id, answer id)."""
    question_id = await store.add_user_message(user, conversation_id, question)
    answer_id = await store.start_assistant_message(
        user, conversation_id, question_id, "offline", "offline-extractive"
    )
    await store.finish_assistant_message(user, answer_id, state="complete", content=answer)
    return question_id, answer_id
