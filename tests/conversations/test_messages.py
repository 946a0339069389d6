"""Answers: start, updates while streaming, finish with numbers; interrupted streams at restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatui.conversations import (
    Citation,
    ConversationConflict,
    ConversationStore,
    Usage,
    finished_state,
)
from chatui.errors import InputError
from chatui.events import CitationEvent, UsageEvent
from tests.conversations.conftest import FakeClock

USER = "ada"
CITATIONS = (
    Citation(1, "guide/install.md", "Install", "Run pip install chatui.", 0.83, "install.md#0"),
    Citation(2, "guide/ünïcode.md", "Ünïcode ✓", 'Snippet with "quotes"\nand lines', 0.5, "u#3"),
)


async def start(store: ConversationStore) -> tuple[str, str, str]:
    conversation = await store.create_conversation(USER)
    question = await store.add_user_message(USER, conversation.id, "How do I install chatui?")
    answer = await store.start_assistant_message(
        USER, conversation.id, question, "openai", "gpt-5.4-mini"
    )
    return conversation.id, question, answer


async def test_messages_answer_lifecycle_round_trips(store: ConversationStore) -> None:
    conversation_id, question, answer = await start(store)

    streaming = await store.get_message(USER, answer)
    assert (streaming.state, streaming.content, streaming.parent_id) == ("streaming", "", question)
    assert (streaming.provider, streaming.model) == ("openai", "gpt-5.4-mini")

    await store.update_assistant_message(USER, answer, "Run")
    await store.update_assistant_message(USER, answer, "Run pip", citations=CITATIONS)
    assert (await store.get_message(USER, answer)).content == "Run pip"

    finished = await store.finish_assistant_message(
        USER,
        answer,
        state="complete",
        content="Run `pip install chatui` [1].",
        usage=Usage(412, 98, estimated=True),
        ttft_ms=310.5,
        duration_ms=2100.0,
    )

    assert finished == await store.get_message(USER, answer)
    assert finished.state == "complete" and finished.content == "Run `pip install chatui` [1]."
    assert finished.usage == Usage(412, 98, True)
    assert (finished.ttft_ms, finished.duration_ms, finished.error) == (310.5, 2100.0, None)
    assert finished.citations == CITATIONS  # saved while streaming, kept by finish
    detail = await store.get_conversation(USER, conversation_id)
    assert detail.messages[-1] == finished
    assert detail.conversation.updated_at == finished.updated_at


async def test_messages_finish_replaces_citations_and_keeps_errors(
    store: ConversationStore,
) -> None:
    _, _, answer = await start(store)
    await store.update_assistant_message(USER, answer, "Par", citations=CITATIONS)

    failed = await store.finish_assistant_message(
        USER,
        answer,
        state="error",
        content="Partial",
        citations=CITATIONS[:1],
        error="Set OPENAI_API_KEY.",
    )

    assert failed.citations == CITATIONS[:1] and failed.usage is None
    assert (failed.state, failed.content, failed.error) == (
        "error",
        "Partial",
        "Set OPENAI_API_KEY.",
    )


async def test_messages_values_from_pipeline_events() -> None:
    event = CitationEvent(marker=1, source="a.md", title="A", snippet="s", score=0.5, chunk_id="c")
    assert Citation.from_event(event) == Citation(1, "a.md", "A", "s", 0.5, "c")
    assert Usage.from_event(UsageEvent(input_tokens=3, output_tokens=4, estimated=True)) == Usage(
        3, 4, True
    )
    assert [finished_state(r) for r in ("stop", "length", "cancelled", "error")] == [
        "complete",
        "complete",
        "stopped",
        "error",
    ]


async def test_messages_finished_answer_is_never_overwritten(store: ConversationStore) -> None:
    _, _, answer = await start(store)
    await store.finish_assistant_message(USER, answer, state="stopped", content="Stopped here")

    with pytest.raises(ConversationConflict) as late_update:
        await store.update_assistant_message(USER, answer, "late token")
    with pytest.raises(ConversationConflict) as second_finish:
        await store.finish_assistant_message(USER, answer, state="complete", content="other")

    assert late_update.value.code == second_finish.value.code == "message_finished"
    assert late_update.value.http_status == 409 and "stopped" in late_update.value.message
    assert (await store.get_message(USER, answer)).content == "Stopped here"


async def test_messages_finish_refuses_unknown_states(store: ConversationStore) -> None:
    _, _, answer = await start(store)
    with pytest.raises(InputError) as caught:
        await store.finish_assistant_message(USER, answer, state="streaming", content="")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_state"


async def test_messages_oversized_answer_is_refused(store: ConversationStore) -> None:
    _, _, answer = await start(store)
    with pytest.raises(InputError) as caught:
        await store.update_assistant_message(USER, answer, "x" * 1_000_001)
    assert caught.value.code == "message_too_long"
    assert (await store.get_message(USER, answer)).state == "streaming"


async def test_messages_answer_must_follow_a_question(store: ConversationStore) -> None:
    conversation_id, _, answer = await start(store)
    other = await store.create_conversation(USER)
    other_question = await store.add_user_message(USER, other.id, "Elsewhere")

    for parent in (answer, other_question):
        with pytest.raises(InputError) as caught:
            await store.start_assistant_message(USER, conversation_id, parent, "p", "m")
        assert caught.value.code == "invalid_parent"


async def test_messages_mark_interrupted_streams(store: ConversationStore) -> None:
    _, _, in_flight = await start(store)
    await store.update_assistant_message(USER, in_flight, "The last saved second")
    _, _, done = await start(store)
    await store.finish_assistant_message(USER, done, state="complete", content="Done")

    assert await store.mark_interrupted_streams() == 1
    assert await store.mark_interrupted_streams() == 0

    interrupted = await store.get_message(USER, in_flight)
    assert (interrupted.state, interrupted.content) == ("interrupted", "The last saved second")
    assert (await store.get_message(USER, done)).state == "complete"
    with pytest.raises(ConversationConflict):
        await store.update_assistant_message(USER, in_flight, "after the restart")


async def test_messages_mark_interrupted_streams_spares_live_ones_when_asked(
    store: ConversationStore, clock: FakeClock
) -> None:
    _, _, abandoned = await start(store)
    await store.update_assistant_message(USER, abandoned, "Last saved long ago")
    clock.advance(minutes=5)
    _, _, live = await start(store)  # another server process is streaming this one
    await store.update_assistant_message(USER, live, "Saved a second ago")

    assert await store.mark_interrupted_streams(quiet_for=timedelta(minutes=1)) == 1

    assert (await store.get_message(USER, abandoned)).state == "interrupted"
    assert (await store.get_message(USER, live)).state == "streaming"


async def test_messages_mark_interrupted_streams_across_store_restarts(
    store: ConversationStore, settings, clock: FakeClock
) -> None:
    _, _, answer = await start(store)
    await store.update_assistant_message(USER, answer, "Half an answer")
    await store.close()  # the server dies; a new one starts on the same database

    async with ConversationStore(settings, clock=clock) as restarted:
        assert await restarted.mark_interrupted_streams() == 1
        message = await restarted.get_message(USER, answer)
    assert (message.state, message.content) == ("interrupted", "Half an answer")
