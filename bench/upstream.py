"""The suite's fake LLM upstream (tests.fakes.upstream), in a process of its own, remote-controlled.

Why a process: the browser harness (Playwright) and the peer apps must not share a GIL with the
upstream, or its pacing would wobble with their load. Why timestamps: every scenario measures from
the moment a token left the upstream. Each record keeps `time.monotonic()` of every token taken just
before the fake encodes and writes it (tens of microseconds before the bytes reach the socket;
taken after, a busy machine could preempt the process between write and clock read and make a
token look as if it arrived before it was sent). CLOCK_MONOTONIC is system-wide on Linux, so
the harness compares these times with its own.

What must stay true: the wire bytes are the fake's own (this module only adds timestamps and a
control API on a second port); the process exits when its parent closes its stdin.

Control API (JSON): POST /script {tokens, delay_s, first_token_delay_s, count} queues `count`
copies of a script; GET /requests?since=N lists records from index N; POST /reset.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class UpstreamRecord:
    """One request the upstream answered: when each token left (monotonic seconds)."""

    started_at: float
    first_token: str  # the script's first token: which answer this was (see corpus markers)
    token_times: tuple[float, ...]
    completed_at: float | None
    disconnected_at: float | None


class UpstreamProcess:
    """`with UpstreamProcess() as up:` starts the server process; `up.openai_base_url` for the apps."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._client = httpx.Client(timeout=30)
        self.base_url = self.control_url = ""

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    def __enter__(self) -> UpstreamProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.upstream"], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("The fake upstream process exited at start; its error is printed above.")
        urls = json.loads(line)
        self.base_url, self.control_url = urls["base_url"], urls["control_url"]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.close()
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # the server's signal to stop
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def script(self, tokens: list[str], delay_s: float = 0.0, *, first_token_delay_s: float = 0.0,
               count: int = 1) -> None:
        body = {"tokens": tokens, "delay_s": delay_s, "first_token_delay_s": first_token_delay_s, "count": count}
        self._client.post(self.control_url + "/script", json=body).raise_for_status()

    def requests(self, since: int = 0) -> list[UpstreamRecord]:
        response = self._client.get(self.control_url + "/requests", params={"since": since})
        response.raise_for_status()
        return [UpstreamRecord(r["started_at"], r["first_token"], tuple(r["token_times"]), r["completed_at"], r["disconnected_at"])
                for r in response.json()]

    def count(self) -> int:
        response = self._client.get(self.control_url + "/count")
        response.raise_for_status()
        return int(response.json())

    def reset(self) -> None:
        self._client.post(self.control_url + "/reset").raise_for_status()


# -- the server process ---------------------------------------------------------------------------


def _serve() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import tests.fakes.upstream as fake
    from tests.servers import ServerThread

    @dataclass
    class TimedRequest(fake.RecordedRequest):
        token_times: list[float] = field(default_factory=list)  # filled by PacedEvents

    class PacedEvents(fake._Events):
        async def _tokens(self):  # type: ignore[override]
            loop = asyncio.get_running_loop()
            start = loop.time() + self.s.first_token_delay_s
            for i, token in enumerate(self.s.tokens[: self.cut]):
                await asyncio.sleep(max(0.0, start + (i + 1) * self.s.delay_s - loop.time()))
                self.rec.token_times.append(time.monotonic())  # type: ignore[attr-defined]
                yield token  # the fake encodes and writes it before asking for the next one
                self.rec.tokens_sent += 1

    # The fake builds its records and event streams by these names at request time.
    fake.RecordedRequest = TimedRequest  # type: ignore[misc]
    fake._Events = PacedEvents  # type: ignore[misc]
    upstream = fake.FakeUpstream().start()

    async def script(request: Request) -> JSONResponse:
        body = await request.json()
        one = fake.Script(tokens=body["tokens"], delay_s=body["delay_s"],
                          first_token_delay_s=body["first_token_delay_s"])
        upstream.script(*[one] * body["count"])
        return JSONResponse(True)

    async def requests(request: Request) -> JSONResponse:
        since = int(request.query_params.get("since", 0))
        return JSONResponse([
            {"started_at": r.started_at, "first_token": r.script.tokens[0] if r.script.tokens else "",
             "token_times": list(getattr(r, "token_times", [])),
             "completed_at": r.completed_at, "disconnected_at": r.disconnected_at}
            for r in upstream.requests[since:]
        ])

    async def count(request: Request) -> JSONResponse:
        return JSONResponse(len(upstream.requests))

    async def reset(request: Request) -> JSONResponse:
        upstream.reset()
        return JSONResponse(True)

    control = ServerThread(Starlette(routes=[
        Route("/script", script, methods=["POST"]), Route("/requests", requests),
        Route("/count", count), Route("/reset", reset, methods=["POST"]),
    ])).start()
    print(json.dumps({"base_url": upstream.base_url, "control_url": control.base_url}), flush=True)
    stopped = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stopped.set()), daemon=True).start()
    stopped.wait()
    control.stop()
    upstream.stop()


if __name__ == "__main__":
    _serve()
