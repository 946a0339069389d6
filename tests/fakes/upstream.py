"""A fake LLM upstream: a real HTTP server on loopback that speaks the vendors' streaming wire formats.

Why it exists: provider adapters must be tested against the real `openai` and `anthropic` SDKs, because
the bugs live where SDK and wire meet (SSE framing, UTF-8 split across network reads, retries, mid-stream
errors, disconnects). Mocking the SDK would test our guess of the SDK. So this is a raw ASGI app under
uvicorn on 127.0.0.1, in a background thread with its own event loop, scripted per request.

What must stay true:
- The bytes on the wire match what OpenAI (`POST /v1/chat/completions`) and Anthropic (`POST /v1/messages`)
  send: event names, JSON field names and order, `data: [DONE]`, error bodies, retry headers. JSON is
  compact and raw UTF-8 (`ensure_ascii=False`), as the vendors send it, so `split_utf8` can cut a character.
- Every request is recorded (even those answered with an HTTP error), thread-safely.
- A client disconnect is timestamped (`time.monotonic()`) the moment uvicorn reports it, and nothing is
  written after it: a listener task awaits `http.disconnect` alongside the stream; the first to finish
  cancels the other (the sse-starlette shape).
- Non-stream requests (`"stream"` absent or false) get one JSON completion of all `tokens`, after the summed
  delays, or the `http_error`; `error_after`, `stall_after` and `split_utf8` apply to streams only.
- `error_after`/`stall_after`/`drop_after` beyond the token count mean: all tokens, then the
  error/stall/drop. A drop ends the connection without the end of the chunked body, as a crashed
  upstream or a cut network does (uvicorn logs it as an error in the app: that is the drop).
- `stop()` ends stalled streams with a clean end of body (leaving `completed_at` None), so shutdown never
  waits on a client.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.servers import ServerThread


class DroppedConnection(Exception):
    """Raised inside the fake's app on purpose: uvicorn then closes the connection mid-body."""


@dataclass
class Script:
    tokens: list[str] = field(default_factory=lambda: ["Hello", ",", " world", "!"])
    delay_s: float = 0.0  # sleep before each token
    first_token_delay_s: float = 0.0  # extra sleep before the first token
    http_error: int | None = None  # answer this status with the vendor's error body instead of streaming
    error_after: int | None = None  # after this many tokens send the vendor's mid-stream error, end the body
    stall_after: int | None = None  # after this many tokens send nothing more until the client goes away
    drop_after: int | None = None  # after this many tokens close the connection mid-body (no end of body)
    split_utf8: bool = False  # write each SSE event in two writes, cut inside a multi-byte character if any
    finish_reason: str = "stop"  # "stop" | "length" (Anthropic: end_turn | max_tokens)
    include_usage: bool = True  # OpenAI: final usage chunk, only if the request asked for it too
    sparse: bool = False  # OpenAI: chunks as lean compatible servers send them (few fields, nulls, comments)
    input_tokens: int = 42


@dataclass
class RecordedRequest:
    vendor: str  # "openai" | "anthropic"
    path: str
    headers: dict[str, str]
    body: dict
    script: Script
    started_at: float  # time.monotonic()
    tokens_sent: int = 0
    completed_at: float | None = None  # set just before the last bytes go out: whoever saw them sees it
    disconnected_at: float | None = None  # the server saw the client go away before completing


_ROUTES = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}
_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens"}
# status -> (error type, [OpenAI code,] message), as the vendors send them.
_OPENAI_ERRORS = {
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: {key}. You can find your API "
          "key at https://platform.openai.com/account/api-keys."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again shortly."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
}
_ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Invalid request."), 401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found."), 429: ("rate_limit_error", "This request would exceed your rate limit."),
    500: ("api_error", "Internal server error"), 529: ("overloaded_error", "Overloaded"),
}
_SPLIT_PAUSE_S = 0.005  # long enough for the two halves of an event to leave as separate TCP segments


def _json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _split_point(data: bytes) -> int:
    """Index of the first UTF-8 continuation byte (inside a multi-byte character), else the middle."""
    return next((i for i, b in enumerate(data) if b & 0xC0 == 0x80), len(data) // 2)


def _error_body(vendor: str, status: int, api_key: str = "") -> dict:
    if vendor == "anthropic":
        kind, message = _ANTHROPIC_ERRORS.get(status, ("api_error", f"Fake upstream: HTTP {status}."))
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind, code, message = _OPENAI_ERRORS.get(status, ("server_error", None, f"Fake upstream: HTTP {status}."))
    # OpenAI echoes the key it rejected: whole if short, else its first 8 and last 4 characters.
    masked = api_key if len(api_key) <= 12 else api_key[:8] + "*" * (len(api_key) - 12) + api_key[-4:]
    return {"error": {"message": message.format(key=masked), "type": kind, "param": None, "code": code}}


class _Events:
    """The SSE events (as text) of one streamed response to `rec`; counts tokens on the record as they go.

    The generators yield every event but the last, which they leave in `self.last` ("" for a stall), so
    the caller can send it together with the end of the body.
    """

    def __init__(self, rec: RecordedRequest):
        self.rec, self.s = rec, rec.script
        self.model = rec.body.get("model", "fake-model")
        s = self.s
        # How the stream ends, and after how many tokens: a drop, else the earlier of stall/error, else all tokens.
        if s.drop_after is not None:
            self.ending, self.cut = "drop", s.drop_after
        elif s.stall_after is not None and (s.error_after is None or s.stall_after <= s.error_after):
            self.ending, self.cut = "stall", s.stall_after
        elif s.error_after is not None:
            self.ending, self.cut = "error", s.error_after
        else:
            self.ending, self.cut = "finish", len(s.tokens)
        self.last = ""

    async def _tokens(self):
        for i, token in enumerate(self.s.tokens[: self.cut]):
            await asyncio.sleep(self.s.delay_s + (self.s.first_token_delay_s if i == 0 else 0.0))
            yield token
            self.rec.tokens_sent += 1

    async def openai(self):
        usage = bool((self.rec.body.get("stream_options") or {}).get("include_usage")) and self.s.include_usage
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.model, "system_fingerprint": None}
        if self.s.sparse:  # no id/object/created/model, a null content, a comment line
            base = {}
            yield ": keep-alive\n\n"
            yield f"data: {_json({'choices': [{'delta': {'content': None}}]})}\n\n"

        def chunk(delta: dict, finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            if self.s.sparse:
                choice = {"delta": delta, **({"finish_reason": finish} if finish else {})}
            # With include_usage the real API sends "usage": null on every chunk but the last.
            return f"data: {_json({**base, 'choices': [choice], **({'usage': None} if usage else {})})}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        async for token in self._tokens():
            yield chunk({"content": token})
        if self.ending == "error":
            self.last = f"data: {_json(_error_body('openai', 500))}\n\n"
        if self.ending != "finish":
            return
        yield chunk({}, self.s.finish_reason)
        if usage:
            n, m = self.s.input_tokens, self.rec.tokens_sent
            counts = {"prompt_tokens": n, "completion_tokens": m, "total_tokens": n + m}
            yield f"data: {_json({**base, 'choices': [], 'usage': counts})}\n\n"
        self.last = "data: [DONE]\n\n"

    async def anthropic(self):
        def event(kind: str, data: dict) -> str:
            return f"event: {kind}\ndata: {_json({'type': kind, **data})}\n\n"

        usage = {"input_tokens": self.s.input_tokens, "output_tokens": 1}
        yield event("message_start", {"message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": usage}})
        yield event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        yield event("ping", {})
        async for token in self._tokens():
            yield event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": token}})
        if self.ending == "error":
            self.last = event("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})
        if self.ending != "finish":
            return
        yield event("content_block_stop", {"index": 0})
        stop = _ANTHROPIC_STOP.get(self.s.finish_reason, self.s.finish_reason)
        yield event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                      "usage": {"output_tokens": self.rec.tokens_sent}})
        self.last = event("message_stop", {})


def _completion(rec: RecordedRequest) -> dict:
    """The non-stream answer: the whole scripted text in one JSON body."""
    s, model, text = rec.script, rec.body.get("model", "fake-model"), "".join(rec.script.tokens)
    n, m = s.input_tokens, len(s.tokens)
    if rec.vendor == "anthropic":
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": _ANTHROPIC_STOP.get(s.finish_reason, s.finish_reason), "stop_sequence": None,
                "usage": {"input_tokens": n, "output_tokens": m}}
    message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": s.finish_reason}],
            "usage": {"prompt_tokens": n, "completion_tokens": m, "total_tokens": n + m},
            "system_fingerprint": None}


async def _send_json(send, status: int, body: dict, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    data = _json(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


class FakeUpstream:
    """The server: `start()` it (or use it as a context manager), queue `Script`s, read `requests`."""

    def __init__(self) -> None:
        self._cond = threading.Condition()  # guards _queue and _requests; notified on every disconnect
        self._queue: collections.deque[Script] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._server: ServerThread | None = None
        self.embedding_requests: list[dict] = []  # bodies of POST /v1/embeddings, in order
        self._stopping = asyncio.Event()  # releases stalled streams on stop(); a fresh one on each start()
        self.base_url = ""

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url  # the SDK appends /v1/messages

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    def script(self, *scripts: Script) -> None:
        with self._cond:
            self._queue.extend(scripts)

    def reset(self) -> None:
        with self._cond:
            self.embedding_requests.clear()
            self._queue.clear()
            self._requests.clear()

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeUpstream:
        self._stopping = asyncio.Event()
        self._server = ServerThread(self._app, on_stop=self._stopping.set).start()
        self.base_url = self._server.base_url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- disconnects -----------------------------------------------------------------------------------

    def _first_disconnected(self) -> RecordedRequest | None:
        with self._cond:
            return next((r for r in self._requests if r.disconnected_at is not None), None)

    def _no_disconnect(self, timeout: float) -> AssertionError:
        seen = [(r.vendor, r.tokens_sent, r.completed_at is not None) for r in self.requests]
        return AssertionError(f"No client disconnected from the fake upstream within {timeout} s. Requests "
                              f"(vendor, tokens sent, completed): {seen}. Did the client close the stream?")

    def wait_for_disconnect(self, timeout: float = 2.0) -> RecordedRequest:
        with self._cond:
            rec = self._cond.wait_for(self._first_disconnected, timeout)
        if rec is None:
            raise self._no_disconnect(timeout)
        return rec

    async def await_disconnect(self, timeout: float = 2.0) -> RecordedRequest:
        deadline = time.monotonic() + timeout
        while (rec := self._first_disconnected()) is None:
            if time.monotonic() > deadline:
                raise self._no_disconnect(timeout)
            await asyncio.sleep(0.002)
        return rec

    # -- the ASGI app (runs on the server thread) ----------------------------------------------------

    async def _app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if (method, path) == ("GET", "/health"):
            return await _send_json(send, 200, {"status": "ok"})
        if (method, path) == ("POST", "/v1/embeddings"):
            return await self._embeddings(receive, send)
        vendor = _ROUTES.get(path)
        if vendor is None or method != "POST":
            return await _send_json(send, 404, {"error": {"message": f"Fake upstream has no {method} {path}."}})
        raw, more = b"", True
        while more:
            message = await receive()
            raw, more = raw + message.get("body", b""), message.get("more_body", False)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._cond:
            script = self._queue.popleft() if self._queue else Script()
            rec = RecordedRequest(vendor, path, headers, json.loads(raw or b"{}"), script, time.monotonic())
            self._requests.append(rec)
        if script.http_error is not None:
            retry = [(b"retry-after-ms", b"10"), (b"retry-after", b"0")] if script.http_error in (429, 529) else []
            rec.completed_at = time.monotonic()
            api_key = headers.get("authorization", "").removeprefix("Bearer ")
            await _send_json(send, script.http_error, _error_body(vendor, script.http_error, api_key), retry)
        elif not rec.body.get("stream"):
            await asyncio.sleep(script.first_token_delay_s + script.delay_s * len(script.tokens))
            rec.tokens_sent, rec.completed_at = len(script.tokens), time.monotonic()
            await _send_json(send, 200, _completion(rec))
        else:
            await self._stream(rec, receive, send)

    async def _embeddings(self, receive, send) -> None:
        """OpenAI's embeddings endpoint, with deterministic vectors (chatui's hashing embedder)."""
        from chatui.retrieval import HashingEmbedder

        raw, more = b"", True
        while more:
            message = await receive()
            raw, more = raw + message.get("body", b""), message.get("more_body", False)
        body = json.loads(raw)
        texts = [body["input"]] if isinstance(body["input"], str) else list(body["input"])
        with self._cond:
            self.embedding_requests.append(body)
        vectors = HashingEmbedder(256).embed(texts)
        tokens = sum(len(t.split()) for t in texts)
        await _send_json(send, 200, {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "model": body.get("model", ""),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })

    async def _stream(self, rec: RecordedRequest, receive, send) -> None:
        """Stream the events while listening for the disconnect; the first to finish cancels the other."""
        events = _Events(rec)
        finished = False
        ctype = b"text/event-stream" if rec.vendor == "openai" else b"text/event-stream; charset=utf-8"

        async def write(data: bytes, more_body: bool) -> None:
            if rec.script.split_utf8 and data:
                cut = _split_point(data)
                await send({"type": "http.response.body", "body": data[:cut], "more_body": True})
                await asyncio.sleep(_SPLIT_PAUSE_S)
                data = data[cut:]
            if data or not more_body:  # an empty chunk would end a chunked body
                await send({"type": "http.response.body", "body": data, "more_body": more_body})

        async def produce() -> None:
            nonlocal finished
            headers = [(b"content-type", ctype), (b"cache-control", b"no-cache")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async for event in getattr(events, rec.vendor)():
                await write(event.encode(), more_body=True)
            if events.ending == "drop":
                raise DroppedConnection(f"dropped after {rec.tokens_sent} tokens, as scripted")
            if events.ending == "stall":
                await self._stopping.wait()  # only stop() releases a stall; completed_at stays None
            else:
                rec.completed_at = time.monotonic()
            finished = True  # uvicorn answers receive() with http.disconnect once the response is complete
            await write(events.last.encode(), more_body=False)

        async def listen() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            seen_at = time.monotonic()
            if not finished:
                with self._cond:
                    rec.disconnected_at = seen_at
                    self._cond.notify_all()

        tasks = [asyncio.create_task(produce()), asyncio.create_task(listen())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()  # a scripted drop, or a bug in the fake as a server error, not a silent hang
