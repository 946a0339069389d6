"""ConversationStore: conversations round-trip, list by recency, search, rename, delete, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chatui.conversations import (
    DEFAULT_TITLE,
    ConversationNotFound,
    ConversationStore,
    title_from_question,
)
from chatui.errors import InputError
from tests.conversations.conftest import POSTGRES_URL, FakeClock, answered

USER = "ada"


async def test_store_create_and_get_round_trip(store: ConversationStore) -> None:
    created = await store.create_conversation(USER, "Install notes")

    detail = await store.get_conversation(USER, created.id)

    assert detail.conversation == created
    assert created.title == "Install notes"
    assert len(created.id) == 32 and created.created_at == created.updated_at
    assert created.created_at.tzinfo is not None
    assert detail.messages == () and detail.leaf_id is None


async def test_store_messages_round_trip_in_order(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    q1, a1 = await answered(store, USER, conversation.id, "How do I install?", "Run *pip*.")
    q2, a2 = await answered(store, USER, conversation.id, "And upgrade?", "Run it again.")

    detail = await store.get_conversation(USER, conversation.id)

    assert [m.id for m in detail.messages] == [q1, a1, q2, a2]
    assert [m.role for m in detail.messages] == ["user", "assistant", "user", "assistant"]
    assert [m.content for m in detail.messages][1] == "Run *pip*."
    assert [m.parent_id for m in detail.messages] == [None, q1, a1, q2]
    assert detail.leaf_id == a2


async def test_store_title_defaults_to_first_question(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    assert conversation.title == DEFAULT_TITLE

    await answered(store, USER, conversation.id, "  How do I\n install   chatui?  ", "Like so.")
    await answered(store, USER, conversation.id, "Second question", "Fine.")

    detail = await store.get_conversation(USER, conversation.id)
    assert detail.conversation.title == "How do I install chatui?"


async def test_store_title_keeps_a_given_title(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER, "Mine")
    await answered(store, USER, conversation.id, "How do I install?", "Like so.")
    assert (await store.get_conversation(USER, conversation.id)).conversation.title == "Mine"


def test_store_title_from_long_question_is_cut_at_a_word() -> None:
    title = title_from_question("word " * 40)
    assert len(title) <= 80 and title.endswith("word…")
    assert title_from_question("   ") == DEFAULT_TITLE


async def test_store_list_by_recency(store: ConversationStore) -> None:
    first = await store.create_conversation(USER, "first")
    second = await store.create_conversation(USER, "second")
    third = await store.create_conversation(USER, "third")
    assert [c.id for c in await store.list_conversations(USER)] == [third.id, second.id, first.id]

    await answered(store, USER, first.id, "bump", "bumped")  # activity moves it to the top

    listed = await store.list_conversations(USER)
    assert [c.id for c in listed] == [first.id, third.id, second.id]
    assert [c.id for c in await store.list_conversations(USER, limit=2)] == [first.id, third.id]


async def test_store_list_searches_titles_and_messages(store: ConversationStore) -> None:
    by_title = await store.create_conversation(USER, "Kubernetes deployment")
    by_question = await store.create_conversation(USER, "one")
    await answered(store, USER, by_question.id, "Does it run on KUBERNETES?", "Yes.")
    by_answer = await store.create_conversation(USER, "two")
    await answered(store, USER, by_answer.id, "Where can it run?", "On kubernetes and more.")
    unrelated = await store.create_conversation(USER, "three")
    await answered(store, USER, unrelated.id, "Colors?", "Blue.")

    found = await store.list_conversations(USER, query="kubernetes")

    assert {c.id for c in found} == {by_title.id, by_question.id, by_answer.id}
    blank_query = await store.list_conversations(USER, query="  ")  # no filter: all, by recency
    assert [c.id for c in blank_query] == [unrelated.id, by_answer.id, by_question.id, by_title.id]


async def test_store_search_treats_wildcards_literally(store: ConversationStore) -> None:
    percent = await store.create_conversation(USER, "100% uptime")
    await store.create_conversation(USER, "1000 users")
    underscore = await store.create_conversation(USER, "max_tokens")
    await store.create_conversation(USER, "maxitokens")

    assert [c.id for c in await store.list_conversations(USER, query="100%")] == [percent.id]
    assert [c.id for c in await store.list_conversations(USER, query="x_t")] == [underscore.id]


async def test_store_rename(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    await answered(store, USER, conversation.id, "Question", "Answer")

    renamed = await store.rename_conversation(USER, conversation.id, "  Better   name ")

    assert renamed.title == "Better name"
    assert (await store.get_conversation(USER, conversation.id)).conversation.title == "Better name"
    await answered(store, USER, conversation.id, "Another", "Still named")
    assert (await store.list_conversations(USER))[0].title == "Better name"


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
async def test_store_rename_refuses_bad_titles(store: ConversationStore, title: str) -> None:
    conversation = await store.create_conversation(USER)
    with pytest.raises(InputError) as caught:
        await store.rename_conversation(USER, conversation.id, title)
    assert caught.value.code == "invalid_title"


async def test_store_delete_removes_everything(store: ConversationStore) -> None:
    kept = await store.create_conversation(USER, "kept")
    gone = await store.create_conversation(USER, "gone")
    _, answer = await answered(store, USER, gone.id, "Searchable words", "Reply")
    await store.set_feedback(USER, answer, "up")

    await store.delete_conversation(USER, gone.id)

    assert [c.id for c in await store.list_conversations(USER)] == [kept.id]
    assert await store.list_conversations(USER, query="searchable") == ()
    for call in (
        store.get_conversation(USER, gone.id),
        store.delete_conversation(USER, gone.id),
        store.rename_conversation(USER, gone.id, "again"),
        store.add_user_message(USER, gone.id, "from an old tab"),
        store.export_json(USER, gone.id),
    ):
        with pytest.raises(ConversationNotFound) as caught:
            await call
        assert caught.value.code == "conversation_not_found" and caught.value.http_status == 404
    async with store.engine.connect() as connection:
        counts = [
            (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            for table in ("messages", "feedback")
        ]
    assert counts == [0, 0]


async def test_store_delete_while_answer_streams_reports_not_found(
    store: ConversationStore,
) -> None:
    conversation = await store.create_conversation(USER)
    question = await store.add_user_message(USER, conversation.id, "Question")
    answer = await store.start_assistant_message(USER, conversation.id, question, "p", "m")

    await store.delete_conversation(USER, conversation.id)  # e.g. from another tab

    with pytest.raises(InputError) as caught:
        await store.update_assistant_message(USER, answer, "late tokens")
    assert caught.value.code == "message_not_found"


@pytest.mark.parametrize("bad", ["", "nothex", "A" * 32, "0" * 31, "../../etc/passwd", "0" * 33])
async def test_store_invalid_ids_are_input_errors(store: ConversationStore, bad: str) -> None:
    for call in (
        store.get_conversation(USER, bad),
        store.add_user_message(USER, bad, "hi"),
        store.get_message(USER, bad),
        store.set_feedback(USER, bad, "up"),
    ):
        with pytest.raises(InputError) as caught:
            await call
        assert caught.value.code == "invalid_id" and "32" in caught.value.message


@pytest.mark.parametrize("user", ["", "   ", "u" * 256])
async def test_store_invalid_user_ids_are_refused(store: ConversationStore, user: str) -> None:
    with pytest.raises(InputError) as caught:
        await store.create_conversation(user)
    assert caught.value.code == "invalid_user"


async def test_store_questions_use_the_chat_limits(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    with pytest.raises(InputError) as too_long:
        await store.add_user_message(USER, conversation.id, "x" * 201)  # the fixture's limit: 200
    with pytest.raises(InputError) as empty:
        await store.add_user_message(USER, conversation.id, "  \n ")

    assert too_long.value.code == "message_too_long" and too_long.value.http_status == 413
    assert "CHATUI_MAX_MESSAGE_CHARS" in too_long.value.message
    assert empty.value.code == "empty_message"
    assert (await store.get_conversation(USER, conversation.id)).messages == ()


async def test_store_list_limit_is_checked(store: ConversationStore) -> None:
    with pytest.raises(InputError):
        await store.list_conversations(USER, limit=0)


async def test_store_survives_reopening(
    store: ConversationStore, settings, clock: FakeClock
) -> None:
    conversation = await store.create_conversation(USER)
    await answered(store, USER, conversation.id, "Persist me", "Persisted")
    await store.close()

    async with ConversationStore(settings, clock=clock) as reopened:
        detail = await reopened.get_conversation(USER, conversation.id)
    assert [m.content for m in detail.messages] == ["Persist me", "Persisted"]
    if POSTGRES_URL is None:
        assert (settings.data_dir / "chatui.db").is_file()
