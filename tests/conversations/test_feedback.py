"""Feedback: thumbs up or down on an answer, with an optional comment; the latest one wins."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chatui.conversations import ConversationStore, Feedback
from chatui.errors import InputError
from tests.conversations.conftest import answered

USER = "ada"


async def test_feedback_is_stored_and_shown_with_the_answer(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    _, answer = await answered(store, USER, conversation.id, "Q", "A")

    verdict = await store.set_feedback(USER, answer, "down", "  Cited the wrong page. ")

    assert isinstance(verdict, Feedback)
    assert (verdict.rating, verdict.comment) == ("down", "Cited the wrong page.")
    detail = await store.get_conversation(USER, conversation.id)
    assert detail.messages[1].feedback == verdict
    assert detail.messages[0].feedback is None


async def test_feedback_latest_wins(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    _, answer = await answered(store, USER, conversation.id, "Q", "A")
    first = await store.set_feedback(USER, answer, "down", "wrong")

    second = await store.set_feedback(USER, answer, "up")

    stored = (await store.get_message(USER, answer)).feedback
    assert stored == second and stored is not None
    assert (stored.rating, stored.comment) == ("up", None)
    assert stored.updated_at > first.updated_at
    async with store.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM feedback"))).scalar() == 1


async def test_feedback_is_per_answer(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    question, first = await answered(store, USER, conversation.id, "Q", "A")
    second = await store.start_assistant_message(USER, conversation.id, question, "p", "m")
    await store.set_feedback(USER, first, "down")

    alternatives = await store.list_alternatives(USER, second)

    assert [m.feedback.rating if m.feedback else None for m in alternatives] == ["down", None]


async def test_feedback_refuses_bad_input(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    question, answer = await answered(store, USER, conversation.id, "Q", "A")

    cases = [
        (lambda: store.set_feedback(USER, question, "up"), "not_an_answer"),
        (lambda: store.set_feedback(USER, answer, "meh"), "invalid_rating"),  # type: ignore[arg-type]
        (lambda: store.set_feedback(USER, answer, "up", "x" * 2001), "comment_too_long"),
    ]
    for call, code in cases:
        with pytest.raises(InputError) as caught:
            await call()
        assert caught.value.code == code
    assert (await store.get_message(USER, answer)).feedback is None
