"""Events are frozen, typed values that survive the wire exactly."""

import pytest
from pydantic import ValidationError

from chatui.events import (
    CitationEvent,
    DoneEvent,
    ErrorEvent,
    Stats,
    StatusEvent,
    TokenEvent,
    UsageEvent,
    parse_event,
)

EXAMPLES = [
    StatusEvent(phase="retrieval", detail="Searching 12 chunks in docs…"),
    CitationEvent(marker=1, source="docs/a.md", title="A > B", snippet="…", score=0.5, chunk_id="x"),
    TokenEvent(text="naïve 🎉\n"),
    UsageEvent(input_tokens=10, output_tokens=3, estimated=True),
    ErrorEvent(code="config", message="Set OPENAI_API_KEY.", retryable=False),
    DoneEvent(finish_reason="stop", stats=Stats(ttft_ms=12.5, output_tokens=3, tokens_per_s=40.0, duration_ms=90.0)),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.kind)
def test_events_round_trip_through_their_payload(event):
    assert parse_event(event.kind, event.payload()) == event
    assert '"kind"' not in event.payload()


def test_events_are_frozen():
    with pytest.raises(ValidationError):
        TokenEvent(text="a").text = "b"


def test_events_reject_unknown_kinds_and_bad_payloads():
    with pytest.raises(ValueError, match="unknown event kind"):
        parse_event("tokens", '{"text":"a"}')
    with pytest.raises(ValueError):
        parse_event("token", "[1]")
    with pytest.raises(ValidationError):
        parse_event("done", '{"finish_reason":"finished"}')
