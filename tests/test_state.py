"""The chat state's handlers without a browser: folding events into fields, finishing an answer,
the history a model sees, and the wire format of streaming updates."""

from __future__ import annotations

import json

import pytest

from chatui.answer_record import AnswerRecord
from chatui.events import CitationEvent, ErrorEvent, StatusEvent, UsageEvent
from chatui.live_answer import LiveAnswer
from chatui.rendering import IncrementalMarkdown, StreamUpdate, render_markdown
from chatui.state import ChatState, Turn, _counters, _finished_turn
from chatui.stream_wire import StreamWire
from chatui.timing import AnswerClock


@pytest.fixture
def state() -> ChatState:
    return ChatState(_reflex_internal_init=True)  # type: ignore[call-arg]


@pytest.fixture
def live() -> LiveAnswer:
    answer = LiveAnswer(_reflex_internal_init=True)  # type: ignore[call-arg]
    answer._begin("a1")
    return answer


def unsaved_record() -> AnswerRecord:
    return AnswerRecord(None, "ann", "", "")  # type: ignore[arg-type]  # never saves here


def script_of(spec) -> str:
    return spec.args[0][1]._var_value


def test_live_answer_folds_the_retrieval_phase_and_citations(live: LiveAnswer):
    assert live.status == "Searching docs…" and live.phase == "retrieval"
    live._apply(StatusEvent(phase="retrieval", detail="Searching 12 chunks in docs…"), "src-a1-")
    live._apply(CitationEvent(marker=1, source="docs/a.md", title="A", snippet="s", score=0.5, chunk_id="c"), "src-a1-")
    live._apply(StatusEvent(phase="generating", detail="OpenAI · gpt", retrieval_ms=12.4), "src-a1-")
    assert live.status == "Found 1 source in 12 ms. Generating…"
    assert live.label == "OpenAI · gpt" and live.phase == "generating"
    assert live.sources[0].anchor == "src-a1-1"


def test_live_answer_says_when_tokens_come_then_ends_with_an_announcement(live: LiveAnswer):
    assert live.streaming and live.answer_id == "a1" and not live.has_tokens
    live._first_token()
    assert live.has_tokens and live.status == "Answering…"
    live._end("stopped")
    assert live.status == "Stopped." and live.phase == "" and live.sources == []
    assert not live.streaming


def test_live_counters_are_formatted_for_the_page():
    clock = AnswerClock()
    clock.token()
    tokens, per_s, ttft = _counters(clock)
    assert (tokens, per_s) == ("1", "–") and ttft.endswith(" ms")
    for _ in range(2):
        clock.token()
    assert _counters(clock)[0] == "3"


def test_answer_record_keeps_what_the_stored_answer_needs_from_events():
    record = unsaved_record()
    record.note(StatusEvent(phase="retrieval", detail="Searching…"))
    record.note(CitationEvent(marker=1, source="docs/a.md", title="A", snippet="s", score=0.5, chunk_id="c"))
    record.note(StatusEvent(phase="generating", detail="OpenAI · gpt", model="gpt-5.4-mini"))
    record.note(UsageEvent(input_tokens=1200, output_tokens=3, estimated=True))
    record.note(ErrorEvent(code="upstream", message="The upstream failed.", retryable=True))
    assert (record.label, record.model, record.error) == ("OpenAI · gpt", "gpt-5.4-mini", "The upstream failed.")
    assert [c.source for c in record.citations] == ["docs/a.md"]
    assert record.usage is not None and record.usage.estimated


def test_finished_turn_marks_estimated_usage_and_keeps_the_sources(live: LiveAnswer):
    clock, record = AnswerClock(), unsaved_record()
    for _ in range(3):
        clock.token()
    live._apply(CitationEvent(marker=1, source="docs/a.md", title="A", snippet="s", score=0.5, chunk_id="c"), "src-a1-")
    record.note(UsageEvent(input_tokens=1200, output_tokens=3, estimated=True))
    turn = _finished_turn("done", "q", None, clock, record, live, "a1")
    assert turn.usage == "~1,200 in · ~3 out (estimated)"
    assert turn.tokens == "3" and turn.id == "a1" and turn.sources[0].anchor == "src-a1-1"


def test_finished_turn_keeps_a_stopped_partial_answer_rendered(live: LiveAnswer):
    markdown = IncrementalMarkdown()
    markdown.feed("Half an **answ")
    markdown.update()
    markdown.finish()
    turn = _finished_turn("stopped", "the question", markdown, AnswerClock(), unsaved_record(), live, "a1")
    assert turn.state == "stopped" and turn.question == "the question"
    assert turn.content == "Half an **answ"
    assert turn.html == render_markdown("Half an **answ")


def test_finished_turn_an_error_before_any_token_keeps_the_message(live: LiveAnswer):
    record = unsaved_record()
    record.note(ErrorEvent(code="config", message="Set OPENAI_API_KEY.", retryable=False))
    turn = _finished_turn("error", "q", None, AnswerClock(), record, live, "a1")
    assert turn.error == "Set OPENAI_API_KEY." and turn.html == ""


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


async def test_stream_wire_slow_lane_sends_only_new_pending_text_between_renders():
    wire = StreamWire("a1")
    assert script_of(await wire.begin()) == 'chatui.begin("a1")'
    first = script_of(await wire.update(StreamUpdate(frozen_html="", tail_html="<p>Hel</p>\n", pending_text="")))
    assert first == 'chatui.stream(...["","<p>Hel</p>\\n",""])'
    assert script_of(await wire.update(StreamUpdate("", None, "lo "))) == 'chatui.more("lo ")'
    assert script_of(await wire.update(StreamUpdate("", None, "lo wor"))) == 'chatui.more("wor")'
    frozen = script_of(await wire.update(StreamUpdate("<p>Hello world</p>\n", "", "")))
    assert json.loads(frozen.removeprefix("chatui.stream(...").removesuffix(")")) == [
        "<p>Hello world</p>\n", "", "",
    ]


async def test_stream_wire_fast_lane_sends_the_same_messages_bare_until_a_resync():
    sent: list[object] = []

    async def send(message: object) -> None:
        sent.append(message)

    wire = StreamWire("a1", send)
    assert wire.fast and await wire.begin() is None
    assert await wire.update(StreamUpdate("", "<p>Hel</p>\n", "")) is None
    assert await wire.update(StreamUpdate("", None, "lo ")) is None
    assert await wire.update(StreamUpdate("<p>Hello</p>\n", "", "")) is None
    assert await wire.count("3", "50", "12 ms") is None
    assert sent == [
        {"begin": "a1"}, ["", "<p>Hel</p>\n", ""], "lo ", ["<p>Hello</p>\n", "", ""], {"count": ["3", "50", "12 ms"]},
    ]
    await wire.end()  # the page measures the streamed blocks before React puts the final HTML in
    assert sent.pop() == {"end": "a1"}
    snapshot = script_of(wire.resync())
    assert json.loads(snapshot.removeprefix("chatui.resync(...").removesuffix(")")) == [
        "a1", "<p>Hello</p>\n", "", "",
    ]
    # A reloaded page may not listen on the fast lane yet: the rest of the answer follows the
    # snapshot on the slow lane, in order.
    assert not wire.fast
    assert script_of(await wire.update(StreamUpdate("", None, "more"))) == 'chatui.more("more")'
    assert script_of(await wire.count("4", "50", "12 ms")) == 'chatui.count(...["4","50","12 ms"])'
    await wire.end()  # nothing on the slow lane: it cannot be yielded from where the answer ends
    assert len(sent) == 5


async def test_stream_wire_cost_per_update_does_not_grow_with_the_answer():
    sent: list[object] = []

    async def send(message: object) -> None:
        sent.append(message)

    markdown, slow, fast = IncrementalMarkdown(debounce_s=0), StreamWire("a1"), StreamWire("a1", send)
    sizes, fast_sizes = [], []
    for i in range(3000):
        markdown.feed(f"word{i % 10} " + ("\n\n" if i % 25 == 24 else ""))
        update = markdown.update()
        sizes.append(len(script_of(await slow.update(update))))
        await fast.update(update)
        fast_sizes.append(len(json.dumps(sent[-1])))
    early, late = max(sizes[100:400]), max(sizes[2600:2900])
    assert late <= early * 1.2, (early, late)
    assert max(fast_sizes[2600:2900]) <= max(fast_sizes[100:400]) * 1.2


def _apply_tail_like_chatui_js(last: str, tail: object) -> str:
    """What assets/chatui.js does with a tail: [kept, rest] keeps UTF-16 code units of the last."""
    if not isinstance(tail, list):
        return tail  # type: ignore[return-value]
    units = last.encode("utf-16-le")[: 2 * tail[0]]
    return units.decode("utf-16-le") + tail[1]


async def test_stream_wire_sends_a_re_rendered_tail_as_what_changed_after_what_it_keeps():
    sent: list[object] = []

    async def send(message: object) -> None:
        sent.append(message)

    markdown, wire = IncrementalMarkdown(debounce_s=0), StreamWire("a1", send)
    text = "A long paragraph 🚀 with **bold** words, ünïcode and `code` that keeps on growing " * 8
    shown, sizes = "", []  # the page's tail; (bytes sent, bytes of the tail) per re-render
    for word in text.split(" "):
        markdown.feed(word + " ")
        update = markdown.update()
        await wire.update(update)
        message = sent[-1]
        if isinstance(message, list) and message[1] is not None:
            shown = _apply_tail_like_chatui_js(shown, message[1])
            assert shown == update.tail_html, "the page rebuilds exactly the rendered tail"
            sizes.append((len(json.dumps(message[1], ensure_ascii=False)), len(shown)))
    late = sizes[len(sizes) // 2 :]
    assert late and all(sent_bytes < tail_bytes / 3 for sent_bytes, tail_bytes in late), late
