"""The floor for scenario 4: the least a Python SSE relay can do per token on chatui's server stack.

Scenario 4 asks how many 50 tok/s streams one process holds. On a 2-core machine that also runs
the clients and the upstream, the answer depends as much on the machine and the server stack as
on chatui. This relay measures that stack alone, in the same run, against the same ticker and
clients: granian (the server `reflex run --env prod` uses) with one worker on the ASGI
interface, an aiohttp client reading the upstream (no SDK), the body split on blank lines, one
`json.loads` per chunk, and one SSE `token` event in chatui's format written per token. No
retrieval, no pipeline, no middleware, no error handling beyond what keeps it running. What
chatui holds next to what this holds is the cost of chatui itself.

What must stay true: the bytes a client reads are shaped like chatui's (`event: token` with the
text, then `event: done` with `"finish_reason":"stop"`), so `concurrency.sse_step` measures both
the same way; the relay stays minimal (a faster floor is a truer one).

`RELAY_UPSTREAM=http://127.0.0.1:PORT/v1 granian --interface asgi --port P bench.relay:app`
"""

from __future__ import annotations

import json
import os

import aiohttp
from starlette.types import Receive, Scope, Send

_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
_REQUEST = {"model": "relay", "messages": [{"role": "user", "content": "relay"}], "stream": True,
            "stream_options": {"include_usage": True}}
_DONE = b'event: done\ndata: {"finish_reason":"stop"}\n\n'
_session: aiohttp.ClientSession | None = None


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global _session
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                if _session is not None:
                    await _session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/health":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    while (await receive()).get("more_body"):
        pass
    if _session is None:
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    sequence = 0
    async with _session.post(os.environ["RELAY_UPSTREAM"] + "/chat/completions", json=_REQUEST) as upstream:
        pending = b""
        async for data in upstream.content.iter_any():
            events = (pending + data).split(b"\n\n")
            pending = events.pop()
            for event in events:
                if not event.startswith(b"data: {"):
                    continue
                for choice in json.loads(event[6:]).get("choices") or ():
                    if text := (choice.get("delta") or {}).get("content"):
                        sequence += 1
                        body = b"event: token\ndata: %s\nid: %d\n\n" % (json.dumps({"text": text}).encode(), sequence)
                        await send({"type": "http.response.body", "body": body, "more_body": True})
    await send({"type": "http.response.body", "body": _DONE, "more_body": False})
