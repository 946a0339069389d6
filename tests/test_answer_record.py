"""Saving an answer while it streams: first token, about once a second, the end; never breaking
the stream when the database refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatui import answer_record, turns
from chatui.answer_record import AnswerRecord
from chatui.conversations import Citation, ConversationStore
from chatui.events import CitationEvent, ErrorEvent, Stats, StatusEvent, UsageEvent
from chatui.turns import turns_from
from tests.conftest import test_settings

CITATION = Citation(1, "docs/install.md", "Install > With pip", "pip install quillmate", 0.5, "c1")
CITED = CitationEvent(marker=1, source="docs/install.md", title="Install > With pip",
                      snippet="pip install quillmate", score=0.5, chunk_id="c1")
GENERATING = StatusEvent(phase="generating", detail="OpenAI · gpt", model="gpt-5.4-mini")


@pytest.fixture
async def store(tmp_path: Path):
    async with ConversationStore.from_settings(test_settings(tmp_path / "data")) as opened:
        yield opened


async def question(store: ConversationStore) -> tuple[str, str]:
    conversation = await store.create_conversation("ann", "How do I install?")
    return conversation.id, await store.add_user_message("ann", conversation.id, "How do I install?")


async def test_answer_record_saves_at_the_first_token_then_at_most_once_a_second(store, monkeypatch):
    conversation_id, question_id = await question(store)
    record = AnswerRecord(store, "ann", conversation_id, question_id)
    record.note(CITED)
    record.note(GENERATING)
    await record.progress("Run")
    saved = await store.get_message("ann", record.message_id)
    assert saved.state == "streaming" and saved.content == "Run" and saved.citations == (CITATION,)

    await record.progress("Run pip")
    assert (await store.get_message("ann", record.message_id)).content == "Run", "not yet a second"

    monkeypatch.setattr(answer_record, "SAVE_EVERY_S", 0.0)
    record._next_save = 0.0
    await record.progress("Run pip install")
    assert (await store.get_message("ann", record.message_id)).content == "Run pip install"


async def test_answer_record_finish_stores_state_usage_timings_and_shows_as_a_turn(store):
    conversation_id, question_id = await question(store)
    record = AnswerRecord(store, "ann", conversation_id, question_id)
    for event in (CITED, GENERATING):
        record.note(event)
    await record.progress("Run [1]")
    record.note(UsageEvent(input_tokens=321, output_tokens=9))
    await record.finish("complete", "Run `pip install quillmate` [1].", Stats(ttft_ms=120.0, duration_ms=900.0))
    stored = await store.get_message("ann", record.message_id)
    assert (stored.provider, stored.model) == ("OpenAI · gpt", "gpt-5.4-mini")
    turns = turns_from(await store.get_conversation("ann", conversation_id))
    answer = turns[-1]
    assert answer.state == "done" and answer.usage == "321 in · 9 out" and answer.ttft == "120 ms"
    assert answer.sources[0].anchor == f"src-{answer.id}-1"
    assert f'href="#src-{answer.id}-1"' in answer.html, "citation links point at this turn's chips"


async def test_turns_render_each_stored_answer_once_however_often_the_conversation_is_rebuilt(store, monkeypatch):
    """The page rebuilds the conversation from the store after every answer: the answers already
    rendered must not be rendered again (that work grew with the conversation)."""
    conversation_id, question_id = await question(store)
    for text in ("Run `pip install quillmate` [1].", "Then *ingest* your docs."):
        record = AnswerRecord(store, "ann", conversation_id, question_id)
        record.note(CITED)
        await record.progress(text)
        await record.finish("complete", text, Stats(ttft_ms=1.0, duration_ms=2.0))
        question_id = await store.add_user_message("ann", conversation_id, "And then?", expected_leaf_id=record.message_id)
    rendered: list[str] = []
    real_render = turns.render_markdown
    monkeypatch.setattr(turns, "render_markdown", lambda text, **kw: rendered.append(text) or real_render(text, **kw))
    turns.answer_html.cache_clear()

    first = turns_from(await store.get_conversation("ann", conversation_id))
    again = turns_from(await store.get_conversation("ann", conversation_id))
    assert len(rendered) == 2, "each answer rendered once"
    assert [t.html for t in again] == [t.html for t in first] and "<em>ingest</em>" in first[-2].html


async def test_answer_record_an_error_before_any_token_is_still_stored(store):
    conversation_id, question_id = await question(store)
    record = AnswerRecord(store, "ann", conversation_id, question_id)
    record.note(GENERATING)
    record.note(ErrorEvent(code="config", message="Set OPENAI_API_KEY.", retryable=False))
    await record.finish("error", "", Stats(duration_ms=50.0))
    message = await store.get_message("ann", record.message_id)
    assert message.state == "error" and message.error == "Set OPENAI_API_KEY."


async def test_answer_record_a_refusing_database_does_not_break_the_answer(store):
    conversation_id, question_id = await question(store)
    record = AnswerRecord(store, "ann", conversation_id, question_id)
    await store.delete_conversation("ann", conversation_id)  # deleted in another tab mid-answer
    await record.progress("Still streaming")
    await record.finish("complete", "Still streaming.", Stats(ttft_ms=1.0, duration_ms=2.0))
    assert record.failure.startswith("This answer was not saved")
