"""Two writers on one database file (two tabs, two workers): clear conflicts, nothing lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from chatui.config import Settings
from chatui.conversations import ConversationConflict, ConversationStore
from chatui.conversations.database import BUSY_TIMEOUT_MS
from tests.conversations.conftest import FakeClock, answered

USER = "ada"


@pytest.fixture
async def tabs(
    settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[ConversationStore, ConversationStore]]:
    """Two stores on the same SQLite file, like two server workers (each with its own pool)."""
    first, second = (
        ConversationStore(settings, clock=clock),
        ConversationStore(settings, clock=clock),
    )
    await first.migrate()
    try:
        yield first, second
    finally:
        await asyncio.gather(first.close(), second.close())


async def message_rows(store: ConversationStore) -> list[tuple[str, int]]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(text("SELECT conversation_id, seq FROM messages"))
        return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.usefixtures("sqlite_only")
async def test_concurrency_sqlite_runs_in_wal_mode_with_a_busy_timeout(
    store: ConversationStore,
) -> None:
    await store.migrate()
    async with store.engine.connect() as connection:
        mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
        timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
    assert (mode, timeout, foreign_keys) == ("wal", BUSY_TIMEOUT_MS, 1)


async def test_concurrency_two_tabs_sending_at_once_store_one_question(tabs) -> None:
    first, second = tabs
    conversation = await first.create_conversation(USER)

    results = await asyncio.gather(
        first.add_user_message(USER, conversation.id, "From tab one"),
        second.add_user_message(USER, conversation.id, "From tab two"),
        return_exceptions=True,
    )

    stored = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, ConversationConflict)]
    assert len(stored) == 1 and len(refused) == 1, results
    assert refused[0].code == "conversation_busy" and "another tab" in refused[0].message
    detail = await second.get_conversation(USER, conversation.id)
    assert [m.id for m in detail.messages] == stored


async def test_concurrency_writers_on_one_file_lose_nothing(tabs) -> None:
    async def chat(store: ConversationStore, name: str) -> str:
        conversation = await store.create_conversation(USER, name)
        for turn in range(15):
            question = await store.add_user_message(USER, conversation.id, f"{name} q{turn}")
            answer = await store.start_assistant_message(USER, conversation.id, question, "p", "m")
            for part in range(3):
                await store.update_assistant_message(USER, answer, f"{name} a{turn} part {part}")
            await store.finish_assistant_message(
                USER, answer, state="complete", content=f"{name} a{turn}"
            )
        return conversation.id

    first, second = tabs
    ids = await asyncio.gather(chat(first, "one"), chat(second, "two"), chat(first, "three"))

    for conversation_id, name in zip(ids, ("one", "two", "three"), strict=True):
        detail = await second.get_conversation(USER, conversation_id)
        expected = [text for t in range(15) for text in (f"{name} q{t}", f"{name} a{t}")]
        assert [m.content for m in detail.messages] == expected
        assert {m.state for m in detail.messages} == {"complete"}
    rows = await message_rows(first)
    assert len(rows) == len(set(rows)) == 90


async def test_concurrency_two_tabs_sharing_one_conversation_take_turns(tabs) -> None:
    """Each tab asks only when the other's answer is done: both turns land, in order."""
    first, second = tabs
    conversation = await first.create_conversation(USER)
    lock = asyncio.Lock()

    async def tab(store: ConversationStore, name: str) -> None:
        for turn in range(5):
            async with lock:  # what the UI's "wait for the answer" amounts to
                await answered(store, USER, conversation.id, f"{name}{turn}?", f"{name}{turn}.")
            await asyncio.sleep(0)

    await asyncio.gather(tab(first, "a"), tab(second, "b"))

    detail = await first.get_conversation(USER, conversation.id)
    assert len(detail.messages) == 20
    assert [m.role for m in detail.messages] == ["user", "assistant"] * 10
    for question, answer in zip(detail.messages[::2], detail.messages[1::2], strict=True):
        assert answer.parent_id == question.id and answer.content == question.content[:-1] + "."


async def test_concurrency_stale_view_gets_conversation_changed(tabs) -> None:
    first, second = tabs
    conversation = await first.create_conversation(USER)
    await answered(first, USER, conversation.id, "Q1", "A1")
    seen_by_second = (await second.get_conversation(USER, conversation.id)).leaf_id
    await answered(first, USER, conversation.id, "Q2 from the first tab", "A2")

    with pytest.raises(ConversationConflict) as caught:
        await second.add_user_message(
            USER, conversation.id, "Q2 from the second tab", expected_leaf_id=seen_by_second
        )

    assert caught.value.code == "conversation_changed" and caught.value.http_status == 409
    assert "Reload" in caught.value.message
    detail = await second.get_conversation(USER, conversation.id)
    assert [m.content for m in detail.messages] == ["Q1", "A1", "Q2 from the first tab", "A2"]
    await second.add_user_message(USER, conversation.id, "Now", expected_leaf_id=detail.leaf_id)


async def test_concurrency_regenerate_from_two_tabs_keeps_both_answers(tabs) -> None:
    first, second = tabs
    conversation = await first.create_conversation(USER)
    question, original = await answered(first, USER, conversation.id, "Q", "A")

    new = await asyncio.gather(
        first.start_assistant_message(USER, conversation.id, question, "p", "m"),
        second.start_assistant_message(USER, conversation.id, question, "p", "m"),
    )

    detail = await first.get_conversation(USER, conversation.id)
    assert detail.messages[1].alternative_ids[0] == original
    assert set(detail.messages[1].alternative_ids[1:]) == set(new)
    assert detail.messages[1].id in new
    rows = await message_rows(first)
    assert len(rows) == len(set(rows)) == 4


async def test_concurrency_streaming_while_the_other_tab_edits(tabs) -> None:
    first, second = tabs
    conversation = await first.create_conversation(USER)
    _, a1 = await answered(first, USER, conversation.id, "Q1", "A1")
    q2 = await first.add_user_message(USER, conversation.id, "Q2")
    streaming = await first.start_assistant_message(USER, conversation.id, q2, "p", "m")

    async def stream() -> None:
        for n in range(20):
            await first.update_assistant_message(USER, streaming, "word " * n)
        await first.finish_assistant_message(USER, streaming, state="complete", content="done")

    async def meddle() -> None:
        for n in range(5):
            await second.rename_conversation(USER, conversation.id, f"title {n}")
            await second.set_feedback(USER, a1, "up" if n % 2 else "down")
            await second.list_conversations(USER, query="Q")

    await asyncio.gather(stream(), meddle())

    assert (await second.get_message(USER, streaming)).content == "done"
    detail = await second.get_conversation(USER, conversation.id)
    assert detail.conversation.title == "title 4"
    assert detail.messages[1].feedback is not None and detail.messages[1].feedback.rating == "down"


async def test_concurrency_abandoned_question_does_not_block_forever(
    store: ConversationStore, clock: FakeClock
) -> None:
    conversation = await store.create_conversation(USER)
    await answered(store, USER, conversation.id, "Q1", "A1")
    abandoned = await store.add_user_message(USER, conversation.id, "Never answered")
    with pytest.raises(ConversationConflict):
        await store.add_user_message(USER, conversation.id, "Too soon")

    clock.advance(minutes=5)  # its tab died before the answer started
    retried = await store.add_user_message(USER, conversation.id, "Asked again")

    detail = await store.get_conversation(USER, conversation.id)
    assert [m.content for m in detail.messages] == ["Q1", "A1", "Asked again"]
    assert detail.messages[-1].alternative_ids == (abandoned, retried)


async def test_concurrency_abandoned_stream_is_interrupted_not_blocking(
    store: ConversationStore, clock: FakeClock
) -> None:
    conversation = await store.create_conversation(USER)
    question = await store.add_user_message(USER, conversation.id, "Q1")
    answer = await store.start_assistant_message(USER, conversation.id, question, "p", "m")
    await store.update_assistant_message(USER, answer, "Half")
    with pytest.raises(ConversationConflict) as busy:
        await store.add_user_message(USER, conversation.id, "Q2")
    assert busy.value.code == "conversation_busy"

    clock.advance(minutes=5)
    await store.add_user_message(USER, conversation.id, "Q2")

    detail = await store.get_conversation(USER, conversation.id)
    assert [(m.content, m.state) for m in detail.messages] == [
        ("Q1", "complete"),
        ("Half", "interrupted"),
        ("Q2", "complete"),
    ]
