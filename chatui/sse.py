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
    It runs once per streamed token (each upstream chunk is usually one `data:` line and a blank
    line), so the common case stays cheap: lines are split by `str.split`, a `data: ` line is
    taken without parsing its field name, and text without a line break is only kept.
    """

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial: list[str] = []  # the unfinished line's pieces (never a line break in them)
        self._first_chunk = True
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._data: list[str] = []  # the event's data lines (empty: the event has no data)
        self._event = ""
        self.last_event_id = ""
        self.retry: int | None = None
        self.comments = 0

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._text.decode(chunk)
        if self._first_chunk and text:
            self._first_chunk = False
            text = text.removeprefix("\ufeff")
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" in text:
            lines = _LINE_BREAK.split(text)
            self._skip_lf = text[-1] == "\r"  # the line ended; an LF may follow in the next chunk
        elif "\n" in text:
            lines = text.split("\n")
        else:  # no line ends here: keep the piece (joined once its line ends, so linear overall)
            if text:
                self._partial.append(text)
            return []
        if self._partial:
            lines[0] = "".join(self._partial) + lines[0]
            self._partial = []
        if unfinished := lines.pop():
            self._partial.append(unfinished)
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(self._dispatch())
                self._event = ""
            elif line.startswith("data: "):
                self._data.append(line[6:])
            elif line[0] == ":":
                self.comments += 1
            else:
                self._field(line)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream: an incomplete event is discarded, as the spec says."""
        self._text.decode(b"", final=True)
        self._partial = []
        return []

    def _field(self, line: str) -> None:
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            # WHATWG: "consists of only ASCII digits" -> "interpret ... as an integer in base ten".
            # CPython's int() refuses over 4300 digits (int_max_str_digits); such a value is
            # ignored rather than raised out of feed(), which would end the whole stream.
            try:
                self.retry = int(value)
            except ValueError:
                pass

    def _dispatch(self) -> ServerSentEvent:
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self.last_event_id or None,
            retry=self.retry,
        )
        self._data = []
        return event
