"""How the answer in flight reaches the page: only what changed, on the cheapest path the page has.

The answer's text is never a state var (Reflex would resend all of it on every update). Instead the
streaming handler turns each renderer update into a message for assets/chatui.js: a few more words
of raw text (most updates), or newly finished blocks (HTML, sent once) with the re-rendered tail;
and, a few times a second, the live counters.
A re-rendered tail mostly repeats the last one, so it goes as "keep the first N characters of the
last tail (UTF-16 code units, as JavaScript counts), then this".

Two lanes carry the same messages:
- The fast lane: a socket.io event `chatui` on the page's own Reflex websocket, about 25 bytes of
  framing. The page opts in once it is loaded (`ATTACH_SCRIPT` hands chatui.js the socket, and its
  result tells the server, see `ChatState.on_page_load`).
- The slow lane: `rx.call_script("chatui.more(...)")` through Reflex's event queue, about 140
  bytes of framing per message: for a page that has not (yet) opted in.

What must stay true: messages of one answer arrive in order, so an answer keeps the lane it began
on, except that after a page reload (`resync`, always on the slow lane) it stays on the slow lane.
Per-message bytes do not grow with the answer. The wire remembers the whole picture (all frozen
HTML, the last tail, the pending text), so a reloaded page can be given a snapshot.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable

import reflex as rx

from chatui.rendering import StreamUpdate

SOCKET_EVENT = "chatui"
MIN_KEPT_TAIL = 24  # shorter common starts are not worth the [n, rest] form
# Run by Reflex's `_call_script` in a scope where `socket` is the page's websocket. Its result
# (true once chatui.js listens on it) comes back to the server as the script's callback argument.
ATTACH_SCRIPT = "window.chatui ? window.chatui.attach(socket) : false"

Send = Callable[[object], Awaitable[None]]


class StreamWire:
    def __init__(self, answer_id: str, send: Send | None = None) -> None:
        """`send` delivers a message on the fast lane; None: this answer uses the slow lane."""
        self._answer_id = answer_id
        self._send = send
        self._frozen: list[str] = []
        self._tail = ""
        self._pending = ""

    @property
    def fast(self) -> bool:
        return self._send is not None

    async def begin(self) -> rx.event.EventSpec | None:
        """Route what follows to this answer (and pin the reader to the bottom)."""
        return await self._deliver({"begin": self._answer_id}, f"chatui.begin({_js(self._answer_id)})")

    async def update(self, update: StreamUpdate) -> rx.event.EventSpec | None:
        """Deliver one renderer update; on the slow lane, the event to yield (else None)."""
        if update.frozen_html:
            self._frozen.append(update.frozen_html)
        tail: str | list[object] | None = update.tail_html
        if update.tail_html is not None:
            tail = _tail_change(self._tail, update.tail_html)
            self._tail = update.tail_html
        pending = update.pending_text
        if update.tail_html is None and not update.frozen_html and pending.startswith(self._pending):
            new_text, self._pending = pending[len(self._pending) :], pending
            return await self._deliver(new_text, f"chatui.more({_js(new_text)})")  # most updates
        self._pending = pending
        message = [update.frozen_html, tail, pending]
        return await self._deliver(message, f"chatui.stream(...{_js(message)})")

    async def count(self, tokens: str, tokens_per_s: str, ttft: str) -> rx.event.EventSpec | None:
        """The live counters, as the page shows them (they are not state vars either)."""
        counters = [tokens, tokens_per_s, ttft]
        return await self._deliver({"count": counters}, f"chatui.count(...{_js(counters)})")

    async def end(self) -> None:
        """The answer is over; its final HTML follows with the state. The page measures the streamed
        blocks now, whose heights it gives the final HTML: its once-a-frame measure misses the last
        blocks when no frame came between the last update and the swap. Fast lane only: the end is
        in a `finally`, which cannot yield a script (without it, heights are carried only when
        the last frame saw every block)."""
        if self._send is not None:
            await self._send({"end": self._answer_id})

    def resync(self) -> rx.event.EventSpec:
        """Everything so far, for a page that was reloaded; the rest of the answer follows it on
        the slow lane (the new page may not listen on the fast one yet)."""
        self._send = None
        snapshot = [self._answer_id, "".join(self._frozen), self._tail, self._pending]
        return rx.call_script(f"chatui.resync(...{_js(snapshot)})")

    async def _deliver(self, message: object, script: str) -> rx.event.EventSpec | None:
        if self._send is None:
            return rx.call_script(script)
        await self._send(message)
        return None


def _tail_change(old: str, new: str) -> str | list[object]:
    """The new tail, or [kept, rest]: the length of its common start with the old one in UTF-16
    code units (what JavaScript's slice counts), and what follows."""
    kept = len(os.path.commonprefix((old, new)))
    if kept < MIN_KEPT_TAIL:
        return new
    return [len(new[:kept].encode("utf-16-le")) // 2, new[kept:]]


def _js(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
