"""An ASGI response that streams pipeline events as `text/event-stream`.

Three tasks run together, as in sse-starlette, and the first to finish cancels the others:
the stream (encode and send each event as it comes), a heartbeat (a `: ping` comment after
`ping_interval_s` of silence, so proxies keep the connection open) and a disconnect listener.
What must stay true:

- A client disconnect cancels the event source at once, even while it waits on a stalled upstream:
  that cancellation is what closes the provider's HTTP response (the API promises within 100 ms).
- Each event is flushed as produced: one ASGI body message per event, no buffering, no compression
  (`Content-Encoding: identity` also makes gzip middleware leave the stream alone).
- Heartbeat and events never interleave mid-message (one lock around `send`).

Hand-written rather than sse-starlette's EventSourceResponse because chatui needs pings only after
silence (not on a fixed clock) and the exact byte format of `chatui.sse`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.types import Message, Receive, Scope, Send

from chatui.events import Event
from chatui.sse import PING, encode_event

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"content-encoding", b"identity"),
]


class EventStreamResponse:
    def __init__(self, events: AsyncIterator[Event], *, ping_interval_s: float = 15.0):
        self._events = events
        self._ping_interval_s = ping_interval_s
        self._send_lock = asyncio.Lock()
        self._last_sent = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        self._last_sent = loop.time()
        tasks = [
            asyncio.create_task(self._stream(send)),
            asyncio.create_task(self._heartbeat(send)),
            asyncio.create_task(_wait_for_disconnect(receive)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if not task.cancelled() and (error := task.exception()) is not None:
                if not isinstance(error, OSError):  # the client went away mid-write: not a bug
                    raise error

    async def _stream(self, send: Send) -> None:
        loop = asyncio.get_running_loop()
        sequence = 0
        try:
            async for event in self._events:
                sequence += 1
                async with self._send_lock:
                    await send(_body(encode_event(event, sequence)))
                    self._last_sent = loop.time()
        finally:
            await self._events.aclose()  # type: ignore[attr-defined]
        async with self._send_lock:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _heartbeat(self, send: Send) -> None:
        loop = asyncio.get_running_loop()
        while True:
            quiet_for = loop.time() - self._last_sent
            if quiet_for < self._ping_interval_s:
                await asyncio.sleep(self._ping_interval_s - quiet_for)
                continue
            async with self._send_lock:
                await send(_body(PING))
                self._last_sent = loop.time()


def _body(data: bytes) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": True}


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
