"""The chat state's handlers without a browser: folding events into fields, finishing an answer,
the history a model sees, and the wire format of streaming updates."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chatui.events import CitationEvent, ErrorEvent, StatusEvent, TokenEvent, UsageEvent
from chatui.rendering import IncrementalMarkdown, StreamUpdate, render_markdown
from chatui.state import ChatState, Turn, _StreamWire
from chatui.timing import AnswerClock


# What `_finish` reads of an AnswerRecord: nothing was saved (no database in these tests).
NOT_SAVED = SimpleNamespace(message_id=None, failure="")


@pytest.fixture
def state() -> ChatState:
    return ChatState(_reflex_internal_init=True)  # type: ignore[call-arg]


def script_of(spec) -> str:
    return spec.args[0][1]._var_value


def test_state_folds_the_retrieval_phase_and_citations(state: ChatState):
    state._begin()
    assert state.streaming and state.status == "Searching docs…" and state.answer_id
    state._apply(StatusEvent(phase="retrieval", detail="Searching 12 chunks in docs…"))
    state._apply(CitationEvent(marker=1, source="docs/a.md", title="A", snippet="s", score=0.5, chunk_id="c"))
    state._apply(StatusEvent(phase="generating", detail="OpenAI · gpt", retrieval_ms=12.4))
    assert state.status == "Found 1 source in 12 ms. Generating…"
    assert state.answer_label == "OpenAI · gpt"
    assert state.answer_sources[0].anchor == f"src-{state.answer_id}-1"


def test_state_counts_tokens_and_marks_estimated_usage(state: ChatState):
    state._begin()
    clock = AnswerClock()
    for _ in range(3):
        clock.token()
    state._count(clock)
    assert state.has_tokens and state.live_tokens == "3" and state.live_ttft.endswith("ms")
    state._apply(UsageEvent(input_tokens=1200, output_tokens=3, estimated=True))
    state._finish("done", "q", None, clock, NOT_SAVED)
    assert state.turns[-1].usage == "~1,200 in · ~3 out (estimated)"
    assert state.turns[-1].tokens == "3"


def test_state_finish_keeps_a_stopped_partial_answer_rendered(state: ChatState):
    state._begin()
    markdown = IncrementalMarkdown()
    markdown.feed("Half an **answ")
    markdown.update()
    markdown.finish()
    state._finish("stopped", "the question", markdown, AnswerClock(), NOT_SAVED)
    turn = state.turns[-1]
    assert turn.state == "stopped" and turn.question == "the question"
    assert turn.content == "Half an **answ"
    assert turn.html == render_markdown("Half an **answ")
    assert not state.streaming and state.status == "Stopped."


def test_state_error_before_any_token_keeps_the_message(state: ChatState):
    state._begin()
    state._apply(ErrorEvent(code="config", message="Set OPENAI_API_KEY.", retryable=False))
    state._finish("error", "q", None, AnswerClock(), NOT_SAVED)
    assert state.turns[-1].error == "Set OPENAI_API_KEY." and state.turns[-1].html == ""


def test_state_history_leaves_out_failed_answers(state: ChatState):
    state.turns = [
        Turn(id="1", role="user", content="first"),
        Turn(id="2", role="assistant", content="partial", state="error"),
        Turn(id="3", role="user", content="second"),
        Turn(id="4", role="assistant", content="stopped early", state="stopped"),
    ]
    assert [(m.role, m.content) for m in state._history()] == [
        ("user", "first"),
        ("user", "second"),
        ("assistant", "stopped early"),
    ]


def test_stream_wire_sends_only_new_pending_text_between_renders():
    wire = _StreamWire()
    first = script_of(wire.script(StreamUpdate(frozen_html="", tail_html="<p>Hel</p>\n", pending_text="")))
    assert first == 'chatui.stream(...["","<p>Hel</p>\\n",""])'
    assert script_of(wire.script(StreamUpdate("", None, "lo "))) == 'chatui.more("lo ")'
    assert script_of(wire.script(StreamUpdate("", None, "lo wor"))) == 'chatui.more("wor")'
    frozen = script_of(wire.script(StreamUpdate("<p>Hello world</p>\n", "", "")))
    assert json.loads(frozen.removeprefix("chatui.stream(...").removesuffix(")")) == [
        "<p>Hello world</p>\n", "", "",
    ]


def test_stream_wire_cost_per_update_does_not_grow_with_the_answer():
    markdown, wire = IncrementalMarkdown(debounce_s=0), _StreamWire()
    sizes = []
    for i in range(3000):
        markdown.feed(f"word{i % 10} " + ("\n\n" if i % 25 == 24 else ""))
        sizes.append(len(script_of(wire.script(markdown.update()))))
    early, late = max(sizes[100:400]), max(sizes[2600:2900])
    assert late <= early * 1.2, (early, late)
