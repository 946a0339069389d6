"""Tests for chatui.sse: a byte-exact encoder, and a decoder that follows WHATWG however chunks split.

The rules are WHATWG HTML §9.2 "Server-sent events", section "Parsing an event stream" and
"Interpreting an event stream". Each decoder case below names the rule it checks. The chunk-boundary
tests copy httpx-sse: each stream is split at every byte position, and also fed one byte at a time,
and must decode to the same events as the whole stream fed at once.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from chatui.events import (
    CitationEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    Stats,
    StatusEvent,
    TokenEvent,
    UsageEvent,
    parse_event,
)
from chatui.sse import PING, ServerSentEvent, SSEDecoder, encode_event

SSE = ServerSentEvent


def decode(chunks: Iterable[bytes]) -> tuple[list[ServerSentEvent], SSEDecoder]:
    """Feed every chunk, then end the stream; returns the events and the decoder (for its counters)."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events, decoder


def decode_events(stream: bytes) -> list[ServerSentEvent]:
    return decode([stream])[0]


# --------------------------------------------------------------------------------------------------
# Encoder: byte-exact
# --------------------------------------------------------------------------------------------------

ENCODER_CASES = [
    pytest.param(SSE(data="hello"), b"data: hello\n\n", id="simple-data"),
    pytest.param(SSE(data="x", event="token"), b"event: token\ndata: x\n\n", id="event-name"),
    pytest.param(SSE(data="x", event="message"), b"data: x\n\n", id="default-event-name-omitted"),
    pytest.param(SSE(data="x", id="42"), b"data: x\nid: 42\n\n", id="id"),
    pytest.param(SSE(data="x", id=""), b"data: x\nid: \n\n", id="empty-id-resets"),
    pytest.param(SSE(data="x", retry=3000), b"data: x\nretry: 3000\n\n", id="retry"),
    pytest.param(
        SSE(data="x", event="e", id="1", retry=5),
        b"event: e\ndata: x\nid: 1\nretry: 5\n\n",
        id="all-fields-in-order",
    ),
    pytest.param(SSE(data="a\nb"), b"data: a\ndata: b\n\n", id="multiline-lf"),
    pytest.param(SSE(data="a\r\nb"), b"data: a\ndata: b\n\n", id="multiline-crlf"),
    pytest.param(SSE(data="a\rb"), b"data: a\ndata: b\n\n", id="multiline-bare-cr"),
    pytest.param(
        SSE(data="a\r\n\rb\nc"), b"data: a\ndata: \ndata: b\ndata: c\n\n", id="multiline-mixed"
    ),
    pytest.param(SSE(data="a\n"), b"data: a\ndata: \n\n", id="trailing-lf"),
    pytest.param(SSE(data="\n"), b"data: \ndata: \n\n", id="only-lf"),
    pytest.param(SSE(data=""), b"data: \n\n", id="empty-data"),
    pytest.param(SSE(data="café"), b"data: caf\xc3\xa9\n\n", id="unicode-accent"),
    pytest.param(SSE(data="日本語"), b"data: \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n\n", id="unicode-cjk"),
    pytest.param(SSE(data="🎉"), b"data: \xf0\x9f\x8e\x89\n\n", id="unicode-emoji"),
    # U+2028 is a line break for str.splitlines(), but not for SSE: it stays on one data line.
    pytest.param(SSE(data="a\u2028b"), b"data: a\xe2\x80\xa8b\n\n", id="unicode-u2028-not-a-break"),
    pytest.param(SSE(data=" x"), b"data:  x\n\n", id="data-leading-space"),
    pytest.param(SSE(data=":x"), b"data: :x\n\n", id="data-leading-colon"),
    pytest.param(SSE(data="a: b"), b"data: a: b\n\n", id="data-inner-colon"),
]


@pytest.mark.parametrize(("event", "expected"), ENCODER_CASES)
def test_server_sent_event_encode_is_byte_exact(event: ServerSentEvent, expected: bytes) -> None:
    assert event.encode() == expected


@pytest.mark.parametrize(("event", "expected"), ENCODER_CASES)
def test_server_sent_event_encode_round_trips_through_decoder(
    event: ServerSentEvent, expected: bytes
) -> None:
    # The format cannot carry CR in data: CRLF and CR come back as LF. An empty id means "no id".
    data = event.data.replace("\r\n", "\n").replace("\r", "\n")
    assert decode_events(expected) == [
        SSE(data=data, event=event.event, id=event.id or None, retry=event.retry)
    ]


@pytest.mark.parametrize("bad_id", ["a\nb", "a\rb", "a\0b", "\n"], ids=["lf", "cr", "null", "only-lf"])
def test_server_sent_event_encode_rejects_id_with_line_break_or_null(bad_id: str) -> None:
    with pytest.raises(ValueError, match="id"):
        SSE(data="x", id=bad_id).encode()


def test_ping_is_a_comment_line() -> None:
    events, decoder = decode([PING])
    assert (events, decoder.comments) == ([], 1)


EVENTS_OF_EVERY_KIND: list[Event] = [
    StatusEvent(phase="retrieval"),
    StatusEvent(phase="generating", detail="gpt-4o-mini"),
    CitationEvent(
        marker=1, source="docs/a.md", title="Intro", snippet="line 1\nline 2", score=0.5, chunk_id="a#0"
    ),
    TokenEvent(text="hi\n"),
    TokenEvent(text="日本語 🎉 é\r\n\u2028\0"),
    UsageEvent(input_tokens=12, output_tokens=34),
    ErrorEvent(code="rate_limited", message="Wait a minute and retry.", retryable=True),
    DoneEvent(finish_reason="stop"),
    DoneEvent(
        finish_reason="length",
        stats=Stats(ttft_ms=12.5, output_tokens=3, tokens_per_s=40.0, duration_ms=75.0),
    ),
]
EVENT_IDS = [
    "status-retrieval",
    "status-generating",
    "citation",
    "token",
    "token-unicode-and-breaks",
    "usage",
    "error",
    "done",
    "done-with-stats",
]

ENCODE_EVENT_CASES = [
    pytest.param(
        StatusEvent(phase="retrieval"),
        b'event: status\ndata: {"phase":"retrieval","detail":"","retrieval_ms":null,"model":null}\nid: 1\n\n',
        id="status",
    ),
    pytest.param(
        StatusEvent(phase="generating", detail="OpenAI · gpt", retrieval_ms=12.5, model="gpt"),
        'event: status\ndata: {"phase":"generating","detail":"OpenAI · gpt","retrieval_ms":12.5,"model":"gpt"}'
        "\nid: 1\n\n".encode(),
        id="status-generating",
    ),
    pytest.param(
        CitationEvent(marker=2, source="docs/a.md", title="A", snippet="x\ny", score=0.75, chunk_id="a#3"),
        b"event: citation\n"
        b'data: {"marker":2,"source":"docs/a.md","title":"A","snippet":"x\\ny",'
        b'"score":0.75,"chunk_id":"a#3"}\n'
        b"id: 1\n\n",
        id="citation",
    ),
    pytest.param(TokenEvent(text="hi\n"), b'event: token\ndata: {"text":"hi\\n"}\nid: 1\n\n', id="token"),
    pytest.param(
        TokenEvent(text="é\r🎉\u2028"),
        b'event: token\ndata: {"text":"\xc3\xa9\\r\xf0\x9f\x8e\x89\xe2\x80\xa8"}\nid: 1\n\n',
        id="token-unicode-cr",
    ),
    pytest.param(
        UsageEvent(input_tokens=3, output_tokens=4, estimated=True),
        b'event: usage\ndata: {"input_tokens":3,"output_tokens":4,"estimated":true}\nid: 1\n\n',
        id="usage",
    ),
    pytest.param(
        ErrorEvent(code="auth", message="Set OPENAI_API_KEY."),
        b'event: error\ndata: {"code":"auth","message":"Set OPENAI_API_KEY.","retryable":false}\nid: 1\n\n',
        id="error",
    ),
    pytest.param(
        DoneEvent(finish_reason="stop"),
        b'event: done\ndata: {"finish_reason":"stop","stats":'
        b'{"ttft_ms":null,"output_tokens":0,"tokens_per_s":0.0,"duration_ms":0.0}}\nid: 1\n\n',
        id="done",
    ),
]


@pytest.mark.parametrize(("event", "expected"), ENCODE_EVENT_CASES)
def test_encode_event_is_byte_exact(event: Event, expected: bytes) -> None:
    assert encode_event(event, 1) == expected


def test_encode_event_uses_sequence_as_id() -> None:
    assert encode_event(TokenEvent(text="hi\n"), 7) == b'event: token\ndata: {"text":"hi\\n"}\nid: 7\n\n'


def test_encode_event_cases_cover_every_kind() -> None:
    from chatui.events import KINDS

    assert {case.values[0].kind for case in ENCODE_EVENT_CASES} == KINDS
    assert {event.kind for event in EVENTS_OF_EVERY_KIND} == KINDS


@pytest.mark.parametrize("event", EVENTS_OF_EVERY_KIND, ids=EVENT_IDS)
def test_encode_event_round_trips_through_decoder_and_parse_event(event: Event) -> None:
    [decoded] = decode_events(encode_event(event, 7))
    assert decoded.event == event.kind
    assert decoded.id == "7"
    assert parse_event(decoded.event, decoded.data) == event


def test_encode_event_answer_round_trips_byte_by_byte() -> None:
    stream = b"".join(encode_event(event, seq) for seq, event in enumerate(EVENTS_OF_EVERY_KIND))
    events, _ = decode(stream[i : i + 1] for i in range(len(stream)))
    assert [parse_event(e.event, e.data) for e in events] == EVENTS_OF_EVERY_KIND
    assert [e.id for e in events] == [str(seq) for seq in range(len(EVENTS_OF_EVERY_KIND))]


# --------------------------------------------------------------------------------------------------
# Decoder: conformance with WHATWG HTML §9.2
# --------------------------------------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"

DECODER_CASES = [
    # The spec's own examples (§9.2.4/9.2.6).
    pytest.param(
        b"data: YHOO\ndata: +2\ndata: 10\n\n", [SSE(data="YHOO\n+2\n10")], id="spec-example-stock-ticker"
    ),
    pytest.param(
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
        [SSE(data="first event", id="1"), SSE(data="second event"), SSE(data=" third event")],
        id="spec-example-ids-and-spaces",
    ),
    pytest.param(
        b"data\n\ndata\ndata\n\ndata:", [SSE(data=""), SSE(data="\n")], id="spec-example-empty-data"
    ),
    pytest.param(
        b"data:test\n\ndata: test\n\n", [SSE(data="test"), SSE(data="test")], id="spec-example-one-space"
    ),
    # "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order Mark (BOM), if any."
    pytest.param(BOM + b"data: x\n\n", [SSE(data="x")], id="bom-stripped-at-start"),
    pytest.param(BOM + BOM + b"data: x\n\n", [], id="bom-only-one-stripped"),
    pytest.param(b"data: a\n\n" + BOM + b"data: b\n\n", [SSE(data="a")], id="bom-mid-stream-kept"),
    pytest.param(b"data: " + BOM + b"x\n\n", [SSE(data="\ufeffx")], id="bom-in-value-kept"),
    # end-of-line = ( cr lf / cr / lf )
    pytest.param(b"data: a\r\n\r\n", [SSE(data="a")], id="crlf"),
    pytest.param(b"data: a\r\r", [SSE(data="a")], id="cr"),
    pytest.param(b"data: a\r\ndata: b\rdata: c\n\r\n", [SSE(data="a\nb\nc")], id="mixed-line-endings"),
    pytest.param(
        b"data: a\n\rdata: b\r\n\r\n", [SSE(data="a"), SSE(data="b")], id="lf-then-cr-is-two-line-ends"
    ),
    pytest.param(b"data: a\r\r\ndata: b\n\n", [SSE(data="a"), SSE(data="b")], id="cr-then-crlf"),
    # "If the line starts with a U+003A COLON character (:) Ignore the line."
    pytest.param(b": comment\ndata: x\n: another\n\n", [SSE(data="x")], id="comments-ignored"),
    pytest.param(b":\n\n", [], id="bare-colon-comment"),
    # "Otherwise, the string is not empty but does not contain a U+003A COLON character (:) Process
    # the field using ... the whole line as the field name, and the empty string as the field value."
    pytest.param(b"data\n\n", [SSE(data="")], id="field-without-colon-data"),
    pytest.param(b"event\ndata: x\n\n", [SSE(data="x")], id="field-without-colon-event"),
    # "If value starts with a U+0020 SPACE character, remove it from value."  (one, and only a space)
    pytest.param(b"data:x\n\n", [SSE(data="x")], id="value-no-space"),
    pytest.param(b"data: x\n\n", [SSE(data="x")], id="value-one-space-stripped"),
    pytest.param(b"data:  x\n\n", [SSE(data=" x")], id="value-only-one-space-stripped"),
    pytest.param(b"data:\tx\n\n", [SSE(data="\tx")], id="value-tab-kept"),
    pytest.param(b"data: x \n\n", [SSE(data="x ")], id="value-trailing-space-kept"),
    pytest.param(b"data: a:b\n\n", [SSE(data="a:b")], id="value-after-first-colon"),
    # "Otherwise: The field is ignored."  Field names are compared literally.
    pytest.param(b"foo: bar\ndata: x\n\n", [SSE(data="x")], id="unknown-field-ignored"),
    pytest.param(b"Data: x\n\n", [], id="field-name-case-sensitive"),
    pytest.param(b"data : x\n\n", [], id="field-name-with-space-unknown"),
    # id: "If the field value does not contain U+0000 NULL, then set the last event ID buffer".
    pytest.param(b"id: a\0b\ndata: x\n\n", [SSE(data="x")], id="id-with-null-ignored"),
    pytest.param(
        b"id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n",
        [SSE(data="a", id="1"), SSE(data="b", id="1")],
        id="id-with-null-keeps-previous",
    ),
    pytest.param(
        b"id: 1\ndata: a\n\ndata: b\n\n",
        [SSE(data="a", id="1"), SSE(data="b", id="1")],
        id="last-event-id-persists",
    ),
    pytest.param(
        b"id: 1\ndata: a\n\nid\ndata: b\n\n", [SSE(data="a", id="1"), SSE(data="b")], id="empty-id-resets"
    ),
    pytest.param(b"id: 5\n\ndata: x\n\n", [SSE(data="x", id="5")], id="id-set-by-event-without-data"),
    pytest.param(b"data: x\nid: 3\n\n", [SSE(data="x", id="3")], id="id-after-data-applies"),
    # retry: "If the field value consists of only ASCII digits, then ... set the reconnection time".
    pytest.param(b"retry: 1000\ndata: x\n\n", [SSE(data="x", retry=1000)], id="retry-digits"),
    pytest.param(b"retry: 10a\ndata: x\n\n", [SSE(data="x")], id="retry-letters-ignored"),
    pytest.param(b"retry: -1\ndata: x\n\n", [SSE(data="x")], id="retry-negative-ignored"),
    pytest.param(b"retry: 1.5\ndata: x\n\n", [SSE(data="x")], id="retry-decimal-ignored"),
    pytest.param(b"retry:  100\ndata: x\n\n", [SSE(data="x")], id="retry-second-space-ignored"),
    pytest.param(
        "retry: ١٢\ndata: x\n\n".encode(), [SSE(data="x")], id="retry-non-ascii-digits-ignored"
    ),
    pytest.param(
        b"retry: 10\ndata: a\n\nretry: x\ndata: b\n\n",
        [SSE(data="a", retry=10), SSE(data="b", retry=10)],
        id="retry-invalid-keeps-previous",
    ),
    # Dispatch: "set the data buffer and the event type buffer to the empty string".
    pytest.param(
        b"event: foo\ndata: a\n\ndata: b\n\n",
        [SSE(data="a", event="foo"), SSE(data="b")],
        id="event-type-reset-after-dispatch",
    ),
    pytest.param(
        b"event: foo\n\ndata: b\n\n", [SSE(data="b")], id="event-type-reset-when-nothing-dispatched"
    ),
    pytest.param(b"event: a\nevent: b\ndata: x\n\n", [SSE(data="x", event="b")], id="last-event-field-wins"),
    # "If the data buffer is an empty string, ... return."  (no data line: nothing is dispatched)
    pytest.param(b"event: foo\nid: 1\nretry: 5\n\n", [], id="no-data-not-dispatched"),
    pytest.param(b"\n\n\n", [], id="blank-lines-only"),
    # "Once the end of the file is reached, any pending data must be discarded."
    pytest.param(b"data: a\n\ndata: b\n", [SSE(data="a")], id="trailing-event-discarded"),
    pytest.param(b"data: a\n\ndata: b", [SSE(data="a")], id="trailing-line-discarded"),
    pytest.param(b"data: a\n\ndata: b\r", [SSE(data="a")], id="trailing-cr-line-discarded"),
    # "append the field value to the data buffer, then append a single U+000A LINE FEED";
    # at dispatch "If the data buffer's last character is a U+000A LINE FEED, remove" it (only one).
    pytest.param(b"data: a\ndata: b\ndata: c\n\n", [SSE(data="a\nb\nc")], id="data-lines-joined-by-lf"),
    pytest.param(b"data: a\ndata\n\n", [SSE(data="a\n")], id="trailing-empty-data-line-kept"),
    pytest.param(b"data: a\n: c\ndata: b\n\n", [SSE(data="a\nb")], id="comment-between-data-lines"),
    # The stream is decoded with "UTF-8 decode", which replaces invalid bytes with U+FFFD.
    pytest.param(b"data: \xff\n\n", [SSE(data="\ufffd")], id="invalid-utf8-replaced"),
    pytest.param(
        "data: 日本語 🎉 é\u2028x\n\n".encode(),
        [SSE(data="日本語 🎉 é\u2028x")],
        id="unicode-u2028-not-a-break",
    ),
]


@pytest.mark.parametrize(("stream", "expected"), DECODER_CASES)
def test_sse_decoder_follows_spec(stream: bytes, expected: list[ServerSentEvent]) -> None:
    assert decode_events(stream) == expected


def test_sse_decoder_counts_comments() -> None:
    _, decoder = decode([b": ping\n\n:\ndata: x\n: keep-alive\r\n\r:x\r"])
    assert decoder.comments == 4


def test_sse_decoder_exposes_last_event_id_and_retry() -> None:
    _, decoder = decode([b"id: 9\nretry: 250\ndata: x\n\nid: 10\0\n\n"])
    assert (decoder.last_event_id, decoder.retry) == ("9", 250)


def test_sse_decoder_retry_with_very_many_digits_does_not_raise() -> None:
    # Regression: int() refuses more than 4300 digits (CPython's int_max_str_digits) and raised
    # ValueError out of feed(), ending the stream. The spec puts no limit on the digits and never
    # aborts parsing; the decoder ignores a value it cannot represent and keeps the previous one.
    events = decode_events(b"retry: 5\ndata: a\n\nretry: " + b"9" * 5000 + b"\ndata: b\n\n")
    assert events == [SSE(data="a", retry=5), SSE(data="b", retry=5)]


def test_sse_decoder_dispatches_only_when_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"data: b\n") == []
    assert decoder.feed(b"\n") == [SSE(data="a\nb")]


def test_sse_decoder_close_discards_incomplete_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [SSE(data="a")]
    assert decoder.close() == []


# --------------------------------------------------------------------------------------------------
# Decoder: chunk boundaries (every split gives the same events as the whole stream)
# --------------------------------------------------------------------------------------------------

CHUNKED_STREAMS = {
    "lf": (
        b": ping\n\nevent: token\ndata: {\"text\":\"hi\"}\nid: 1\n\ndata: a\ndata: b\n\nretry: 30\ndata\n\n",
        [
            SSE(data='{"text":"hi"}', event="token", id="1"),
            SSE(data="a\nb", id="1"),
            SSE(data="", id="1", retry=30),
        ],
    ),
    "crlf": (
        b": ping\r\n\r\nevent: token\r\ndata: x\r\nid: 1\r\n\r\ndata: a\r\ndata: b\r\n\r\n",
        [SSE(data="x", event="token", id="1"), SSE(data="a\nb", id="1")],
    ),
    "cr": (
        b": ping\r\revent: token\rdata: x\rid: 1\r\rdata: a\rdata: b\r\r",
        [SSE(data="x", event="token", id="1"), SSE(data="a\nb", id="1")],
    ),
    "mixed-endings": (
        b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\n\rdata: e\r\r\n:c\r\n\n",
        [SSE(data="a\nb\nc"), SSE(data="d"), SSE(data="e")],
    ),
    "utf8-multibyte": (
        BOM + "event: ünï\ndata: 日本語 🎉 é\r\nid: ✓\r\n\r\ndata: 🎉🎉\r\r".encode(),
        [SSE(data="日本語 🎉 é", event="ünï", id="✓"), SSE(data="🎉🎉", id="✓")],
    ),
    "trailing-incomplete": (
        "data: é\n\ndata: 日本\r".encode(),
        [SSE(data="é")],
    ),
}


@pytest.fixture(params=list(CHUNKED_STREAMS), name="chunked_stream")
def _chunked_stream(request: pytest.FixtureRequest) -> tuple[bytes, list[ServerSentEvent]]:
    return CHUNKED_STREAMS[request.param]


def test_sse_decoder_chunked_streams_decode_as_expected_in_one_chunk(
    chunked_stream: tuple[bytes, list[ServerSentEvent]],
) -> None:
    stream, expected = chunked_stream
    assert decode_events(stream) == expected


def test_sse_decoder_every_two_chunk_split_matches_one_shot(
    chunked_stream: tuple[bytes, list[ServerSentEvent]],
) -> None:
    stream, _ = chunked_stream
    whole, whole_decoder = decode([stream])
    for i in range(len(stream) + 1):
        events, decoder = decode([stream[:i], stream[i:]])
        assert events == whole, f"split at byte {i}: {stream[:i]!r} | {stream[i:]!r}"
        assert decoder.comments == whole_decoder.comments, f"split at byte {i}"


def test_sse_decoder_byte_by_byte_matches_one_shot(
    chunked_stream: tuple[bytes, list[ServerSentEvent]],
) -> None:
    stream, _ = chunked_stream
    whole, whole_decoder = decode([stream])
    events, decoder = decode(stream[i : i + 1] for i in range(len(stream)))
    assert events == whole
    assert (decoder.comments, decoder.last_event_id, decoder.retry) == (
        whole_decoder.comments,
        whole_decoder.last_event_id,
        whole_decoder.retry,
    )


def test_sse_decoder_every_three_chunk_split_matches_one_shot() -> None:
    # The trickiest short stream: CR/LF pairs and a 4-byte UTF-8 sequence, with empty chunks allowed.
    stream = BOM + "data: 🎉\r\n\r\rdata: é\r\n\n".encode()
    whole = decode_events(stream)
    assert whole == [SSE(data="🎉"), SSE(data="é")]
    for i in range(len(stream) + 1):
        for j in range(i, len(stream) + 1):
            assert decode([stream[:i], stream[i:j], stream[j:]])[0] == whole, f"split at {i}, {j}"


def _split_positions(stream: bytes, predicate) -> list[int]:
    return [i for i in range(1, len(stream)) if predicate(stream[i - 1], stream[i])]


def _is_utf8_continuation(byte: int) -> bool:
    return byte & 0b1100_0000 == 0b1000_0000


@pytest.mark.parametrize(
    ("name", "is_split"),
    [
        pytest.param("crlf", lambda before, after: (before, after) == (0x0D, 0x0A), id="between-cr-and-lf"),
        pytest.param(
            "utf8-multibyte", lambda before, after: _is_utf8_continuation(after), id="inside-utf8-sequence"
        ),
        pytest.param(
            "utf8-multibyte", lambda before, after: (before, after) == (0xEF, 0xBB), id="inside-bom"
        ),
    ],
)
def test_sse_decoder_named_splits_match_one_shot(name: str, is_split) -> None:
    stream, expected = CHUNKED_STREAMS[name]
    positions = _split_positions(stream, is_split)
    assert positions, "the stream must contain this kind of split"
    for i in positions:
        decoder = SSEDecoder()
        events = decoder.feed(stream[:i])
        events += decoder.feed(stream[i:])
        events += decoder.close()
        assert events == expected, f"split at byte {i}"


def test_sse_decoder_cr_at_chunk_end_dispatches_before_lf_arrives() -> None:
    # A CR alone ends a line: the event is complete at the CR, and a following LF is not a 2nd line.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [SSE(data="a")]
    assert decoder.feed(b"\ndata: b\n\n") == [SSE(data="b")]


def test_sse_decoder_cr_lf_split_by_empty_chunk() -> None:
    # An LF after a chunk-ending CR still belongs to that CR when an empty chunk comes between.
    decoder = SSEDecoder()
    events = decoder.feed(b"data: a\r")
    events += decoder.feed(b"")
    events += decoder.feed(b"\ndata: \xc3")  # the LF, then half of "é"
    events += decoder.feed(b"\xa9\r")
    events += decoder.feed(b"\n\n")
    assert events == [SSE(data="a\n\u00e9")]
