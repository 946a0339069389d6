"""A lean OpenAI-compatible streaming upstream for the concurrency scenario: hundreds of streams,
each at a steady rate, for a fraction of a core.

Why not the suite's fake upstream: at 500 streams x 50 tok/s it would sleep, build and JSON-encode
25,000 chunks a second in uvicorn, taking most of a core of the two the whole scenario shares. Here
one timer loop serves every stream from a heap of due times (each stream keeps its own phase, as
independent model streams would), and each chunk is a byte template. The bytes are the fake's
(`tests.fakes.upstream`, OpenAI chat completions with `include_usage`): the same JSON key order
and separators, `data: [DONE]`, chunked HTTP/1.1 with keep-alive. The smoke test checks that
the openai SDK reads it.

Each token's text is ` t<ns>`: `time.monotonic_ns()` when the token was written, so a client can
compute every token's end-to-end delay through the server in between.

`python -m bench.ticker --port P --rate 50 --tokens 400` serves until killed; `GET /health` is 200.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import time

from bench import loops

_BASE = '{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":%d,"model":%s,"system_fingerprint":null,'
_HEADERS = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n\r\n")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class _Stream:
    __slots__ = ("head", "left", "sent", "transport", "usage")

    def __init__(self, transport: asyncio.Transport, model: str, tokens: int, usage: bool) -> None:
        self.transport, self.left, self.sent, self.usage = transport, tokens, 0, usage
        self.head = (_BASE % (int(time.time()), json.dumps(model))).encode()

    def _event(self, rest: str) -> bytes:
        return _chunk(b"data: " + self.head + rest.encode() + (b',"usage":null' if self.usage else b"") + b"}\n\n")

    def start(self) -> None:
        self.transport.write(_HEADERS + self._event(
            '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'))

    def token(self) -> bool:
        """Write the next token; True when the stream has ended."""
        if self.transport.is_closing():
            return True
        self.transport.write(self._event(
            '"choices":[{"index":0,"delta":{"content":" t%d"},"logprobs":null,"finish_reason":null}]'
            % time.monotonic_ns()))
        self.sent += 1
        self.left -= 1
        if self.left > 0:
            return False
        tail = self._event('"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]')
        if self.usage:
            counts = '{"prompt_tokens":42,"completion_tokens":%d,"total_tokens":%d}' % (self.sent, 42 + self.sent)
            tail += _chunk(b"data: " + self.head + b'"choices":[],"usage":' + counts.encode() + b"}\n\n")
        self.transport.write(tail + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        return True


class Ticker:
    """One loop that writes every stream's tokens when they are due."""

    def __init__(self, rate: float, tokens: int) -> None:
        self.interval, self.tokens = 1 / rate, tokens
        self._heap: list[tuple[float, int, _Stream]] = []
        self._order = itertools.count()
        self._wake = asyncio.Event()

    def add(self, stream: _Stream) -> None:
        stream.start()
        loop = asyncio.get_running_loop()
        heapq.heappush(self._heap, (loop.time() + self.interval, next(self._order), stream))
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._heap:
                self._wake.clear()
                await self._wake.wait()
            now = loop.time()
            while self._heap and self._heap[0][0] <= now:
                due, order, stream = heapq.heappop(self._heap)
                if not stream.token():
                    heapq.heappush(self._heap, (due + self.interval, order, stream))
            if self._heap:
                await asyncio.sleep(max(0.0, self._heap[0][0] - loop.time()))


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive: enough of it for httpx (the openai SDK) and a health check."""

    def __init__(self, ticker: Ticker) -> None:
        self.ticker, self.buffer = ticker, b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, rest = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
            length = int(headers.get("content-length", 0))
            if len(rest) < length:
                return
            body, self.buffer = rest[:length], rest[length:]
            self._respond(lines[0].split(" ")[:2], body)

    def _respond(self, request_line: list[str], body: bytes) -> None:
        assert self.transport is not None
        method, path = request_line
        if method == "POST" and path.endswith("/chat/completions"):
            request = json.loads(body or b"{}")
            usage = bool((request.get("stream_options") or {}).get("include_usage"))
            self.ticker.add(_Stream(self.transport, request.get("model", "fake-model"), self.ticker.tokens, usage))
            return
        status, data = ("200 OK", b'{"status":"ok"}') if path == "/health" else ("404 Not Found", b"{}")
        self.transport.write(b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                             % (status.encode(), len(data), data))


async def serve(port: int, rate: float, tokens: int) -> None:
    ticker = Ticker(rate, tokens)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(ticker), "127.0.0.1", port, backlog=4096)
    async with server:
        await ticker.run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--tokens", type=int, default=400)
    args = parser.parse_args()
    loops.run(serve(args.port, args.rate, args.tokens))


if __name__ == "__main__":
    main()
