"""Server-sent events on the wire: an encoder and a spec-conformant incremental decoder.

The rules are WHATWG HTML, section 9.2 "Server-sent events" (the `text/event-stream` format and its
parsing algorithm). What must stay true:

- `ServerSentEvent.encode()` is byte-exact: `event`, every `data` line, `id`, `retry`, blank line.
  Data containing CR, LF or CRLF is split into several `data:` lines, which a conforming parser
  joins back with LF (so a bare CR in data comes back as LF: the format cannot carry it).
- `SSEDecoder.feed()` accepts bytes split anywhere (inside a UTF-8 sequence, between CR and LF)
  and yields exactly the events a conforming parser would; nothing is dispatched for an event whose
  blank line has not arrived yet.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass

from chatui.events import Event

PING = b": ping\n\n"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: what a browser's EventSource would hand to a listener."""

    data: str = ""
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    def encode(self) -> bytes:
        lines: list[str] = []
        if self.event != "message":
            lines.append(f"event: {self.event}")
        lines.extend(f"data: {line}" for line in _LINE_BREAK.split(self.data))
        if self.id is not None:
            if any(c in self.id for c in "\r\n\0"):
                raise ValueError("an SSE id cannot contain CR, LF or NULL")
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_event(event: Event, sequence: int) -> bytes:
    """The bytes chatui's API sends for one pipeline event: `event: <kind>`, `data: <json>`, `id`."""
    # The payload is compact JSON: it never contains a raw CR or LF, so it is always one data line.
    return f"event: {event.kind}\ndata: {event.payload()}\nid: {sequence}\n\n".encode()


class SSEDecoder:
    """The WHATWG event-stream parser, fed bytes as they arrive.

    `feed()` returns the events completed by that chunk; `comments` counts comment lines (pings).
    """

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._first_chunk = True
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._data: list[str] = []
        self._event = ""
        self._has_data = False
        self.last_event_id = ""
        self.retry: int | None = None
        self.comments = 0

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._text.decode(chunk)
        if self._first_chunk and text:
            self._first_chunk = False
            text = text.removeprefix("\ufeff")
        return list(self._lines(text))

    def close(self) -> list[ServerSentEvent]:
        """End of stream: an incomplete event is discarded, as the spec says."""
        self._text.decode(b"", final=True)
        self._buffer = ""
        return []

    def _lines(self, text: str) -> Iterator[ServerSentEvent]:
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        # The kept buffer holds no line break, so only the new text is searched; each search
        # result is reused until the parser passes it (linear in the input, however it is split).
        searched_from = len(self._buffer)
        buffer = self._buffer + text
        length = len(buffer)
        start = 0
        cr = buffer.find("\r", searched_from)
        lf = buffer.find("\n", searched_from)
        while cr != -1 or lf != -1:
            if cr == -1 or (lf != -1 and lf < cr):
                end, next_start = lf, lf + 1
            elif cr + 1 < length:
                end = cr
                next_start = cr + 2 if buffer[cr + 1] == "\n" else cr + 1
            else:  # CR is the last character seen: the line ends, an LF may follow in the next chunk
                end, next_start = cr, cr + 1
                self._skip_lf = True
            event = self._line(buffer[start:end])
            if event is not None:
                yield event
            start = next_start
            if cr != -1 and cr < start:
                cr = buffer.find("\r", start)
            if lf != -1 and lf < start:
                lf = buffer.find("\n", start)
        self._buffer = buffer[start:]

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                # WHATWG: "consists of only ASCII digits" -> "interpret ... as an integer in base ten".
                # CPython's int() refuses over 4300 digits (int_max_str_digits); such a value is
                # ignored rather than raised out of feed(), which would end the whole stream.
                try:
                    self.retry = int(value)
                except ValueError:
                    pass
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event_type, data, has_data = self._event, self._data, self._has_data
        self._event, self._data, self._has_data = "", [], False
        if not has_data:
            return None
        return ServerSentEvent(
            data="\n".join(data),
            event=event_type or "message",
            id=self.last_event_id or None,
            retry=self.retry,
        )


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """Decode an async byte stream (e.g. `httpx.Response.aiter_raw()`) into events."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    decoder.close()
