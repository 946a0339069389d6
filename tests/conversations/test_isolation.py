"""Two users on one database: neither can see, search, export or change the other's data.

Someone else's conversation or message gets exactly the error a missing one gets, so ids reveal
nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from chatui.conversations import ConversationStore
from chatui.errors import InputError
from tests.conversations.conftest import answered

ADA, BOB = "ada", "bob@example.com"


async def test_isolation_listing_and_search_show_only_your_conversations(
    store: ConversationStore,
) -> None:
    mine = await store.create_conversation(ADA)
    await answered(store, ADA, mine.id, "Secret roadmap question", "Secret answer")
    theirs = await store.create_conversation(BOB)
    await answered(store, BOB, theirs.id, "Another secret", "Theirs")

    assert [c.id for c in await store.list_conversations(ADA)] == [mine.id]
    assert [c.id for c in await store.list_conversations(BOB)] == [theirs.id]
    assert await store.list_conversations(BOB, query="roadmap") == ()
    assert [c.id for c in await store.list_conversations(BOB, query="secret")] == [theirs.id]


async def test_isolation_another_users_data_is_not_found(store: ConversationStore) -> None:
    conversation = await store.create_conversation(ADA)
    question, answer = await answered(store, ADA, conversation.id, "Q", "A")
    streaming = await store.start_assistant_message(ADA, conversation.id, question, "p", "m")
    cid = conversation.id

    attempts: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("conversation_not_found", lambda: store.get_conversation(BOB, cid)),
        ("conversation_not_found", lambda: store.export_markdown(BOB, cid)),
        ("conversation_not_found", lambda: store.export_json(BOB, cid)),
        ("conversation_not_found", lambda: store.rename_conversation(BOB, cid, "mine now")),
        ("conversation_not_found", lambda: store.delete_conversation(BOB, cid)),
        ("conversation_not_found", lambda: store.add_user_message(BOB, cid, "hello")),
        (
            "conversation_not_found",
            lambda: store.start_assistant_message(BOB, cid, question, "p", "m"),
        ),
        ("message_not_found", lambda: store.get_message(BOB, answer)),
        ("message_not_found", lambda: store.list_alternatives(BOB, answer)),
        ("message_not_found", lambda: store.select_alternative(BOB, answer)),
        ("message_not_found", lambda: store.edit_user_message(BOB, question, "edited")),
        ("message_not_found", lambda: store.set_feedback(BOB, answer, "down")),
        ("message_not_found", lambda: store.update_assistant_message(BOB, streaming, "x")),
        (
            "message_not_found",
            lambda: store.finish_assistant_message(BOB, streaming, state="complete", content="x"),
        ),
    ]
    missing_conversation = "0" * 32
    for code, attempt in attempts:
        with pytest.raises(InputError) as caught:
            await attempt()
        assert caught.value.code == code, code
    with pytest.raises(InputError) as never_existed:
        await store.get_conversation(BOB, missing_conversation)
    with pytest.raises(InputError) as someone_elses:
        await store.get_conversation(BOB, cid)
    assert never_existed.value.message == someone_elses.value.message

    detail = await store.get_conversation(ADA, cid)  # untouched
    assert detail.conversation.title == "Q"
    assert [m.content for m in detail.messages] == ["Q", ""]
    assert all(m.feedback is None for m in detail.messages)
    assert (await store.get_message(ADA, streaming)).state == "streaming"


async def test_isolation_a_bobs_question_cannot_be_answered_in_adas_conversation(
    store: ConversationStore,
) -> None:
    adas = await store.create_conversation(ADA)
    bobs = await store.create_conversation(BOB)
    bobs_question = await store.add_user_message(BOB, bobs.id, "Bob asks")

    with pytest.raises(InputError) as caught:
        await store.start_assistant_message(ADA, adas.id, bobs_question, "p", "m")

    assert caught.value.code == "message_not_found"
