"""Scenario 4: how many concurrent streams one app process holds at 50 tok/s, and its CPU per token.

SSE path: N aiohttp clients on uvloop (they take less of the shared cores than httpx) on
`POST /api/chat/stream`, their starts spread over a ramp, the upstream being `bench.ticker` (each
token carries the monotonic time it was sent). UI path: N browser pages in one headless Chromium,
the upstream being the suite's fake (per-token send times). For every token (SSE) or marker (UI)
sent while all N streams were running:

- delay = arrival (client read / DOM) minus upstream send: what the server and transport added;
- added delay = delay minus the median delay of a single stream (the idle floor);
- added gap = (arrival gap to the previous token) minus (upstream gap), the jitter a reader sees.

A step passes when every stream completed and p99 added delay <= 50 ms. Added delay, not added
gap, is the criterion: a server that falls behind steadily adds a little to every gap while its
delay grows without bound. Steps go up until one fails. CPU per token = the server's CPU time over
the step / tokens delivered (starts, retrieval and all).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from bench import loops
from bench.browser import BenchPage, Browser, ChatTarget
from bench.corpus import answer_tokens, marker_indexes
from bench.cpu import CpuMeter
from bench.scenarios.browser_suite import QUESTION
from bench.stats import Summary
from bench.upstream import UpstreamProcess

RATE = 50  # tok/s per stream
ADDED_DELAY_LIMIT_MS = 50
_SENT = re.compile(rb'" t(\d+)"')
UI_MARKER_EVERY = 20
UI_BASE = 1000  # page p's markers are numbered (p + 1) * 1000 + index


@dataclass(frozen=True, slots=True)
class LoadStep:
    path: str  # "SSE" | "UI"
    streams: int
    completed: int
    tokens: int  # delivered, whole step
    delay_ms: Summary  # steady window
    added_delay_ms: Summary
    added_gap_ms: Summary
    server_cpu_s: float
    wall_s: float
    server_util: float  # cores
    cpu_us_per_token: float
    client_util: float  # cores: the SSE clients (this process), or the browser (its chromium processes)
    upstream_util: float
    passed: bool
    server_thread_util: float = math.nan  # cores: the server's busiest thread (its event loop)


@dataclass
class _Trace:
    sent: list[int]  # ns, per token
    arrived: list[int]
    done: bool = False
    error: str = ""


def _steady(traces: list[_Trace]) -> tuple[list[float], list[float]]:
    """(delays, gaps) in ms for tokens sent while every stream was running."""
    live = [t for t in traces if t.sent]
    if not live:
        return [], []
    start, end = max(t.sent[0] for t in live), min(t.sent[-1] for t in live)
    if end <= start:  # the ramp outlasted the streams: use everything
        start, end = min(t.sent[0] for t in live), max(t.sent[-1] for t in live)
    delays, gaps = [], []
    for trace in live:
        for i, (sent, arrived) in enumerate(zip(trace.sent, trace.arrived)):
            if start <= sent <= end:
                delays.append((arrived - sent) / 1e6)
                if i:
                    gaps.append(((arrived - trace.arrived[i - 1]) - (sent - trace.sent[i - 1])) / 1e6)
    return delays, gaps


async def _sse_stream(session: aiohttp.ClientSession, url: str, start_after: float, trace: _Trace) -> None:
    await asyncio.sleep(start_after)
    try:
        async with session.post(url, json={"message": QUESTION}) as response:
            if response.status != 200:
                trace.error = f"HTTP {response.status}"
                return
            pending = b""
            async for chunk in response.content.iter_any():
                now = time.monotonic_ns()
                events = (pending + chunk).split(b"\n\n")
                pending = events.pop()
                for event in events:
                    if (match := _SENT.search(event)) is not None:
                        trace.sent.append(int(match[1]))
                        trace.arrived.append(now)
                    elif event.startswith(b"event: done"):
                        trace.done = b'"finish_reason":"stop"' in event
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        trace.error = f"{type(exc).__name__}: {exc}"


def _summaries(delays: list[float], gaps: list[float], floor_ms: float | None) -> tuple[Summary, Summary, Summary]:
    """Delay, added delay (over `floor_ms`, or over this step's own median when None), added gap."""
    if floor_ms is None:
        floor_ms = Summary.of(delays).median if delays else 0.0
    return Summary.of(delays), Summary.of(d - floor_ms for d in delays), Summary.of(max(0.0, g) for g in gaps)


def sse_step(api_url: str, streams: int, tokens: int, *, server_session: int, upstream_session: int | None,
             floor_ms: float | None) -> LoadStep:
    """N concurrent SSE streams; the upstream must be a ticker sending `tokens` per stream at RATE."""
    ramp_s = max(1.0, streams / 200)
    traces = [_Trace([], []) for _ in range(streams)]

    async def run() -> None:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, connect=30, sock_read=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            url = api_url + "/api/chat/stream"
            await asyncio.gather(*(_sse_stream(session, url, i * ramp_s / streams, t) for i, t in enumerate(traces)))

    server = CpuMeter(session_id=server_session).start()
    upstream = CpuMeter(session_id=upstream_session).start() if upstream_session else None
    client = CpuMeter().start()
    loops.run(run())
    for meter in (server, client, upstream):
        if meter is not None:
            meter.stop()
    delays, gaps = _steady(traces)
    delivered = sum(len(t.sent) for t in traces)
    completed = sum(t.done and len(t.sent) == tokens for t in traces)
    delay, added, gap = _summaries(delays, gaps, floor_ms)
    return LoadStep("SSE", streams, completed, delivered, delay, added, gap, server.cpu_s, server.wall_s,
                    server.utilisation, server.cpu_s / delivered * 1e6 if delivered else math.nan,
                    client.utilisation, upstream.utilisation if upstream else math.nan,
                    passed=completed == streams and added.p99 <= ADDED_DELAY_LIMIT_MS,
                    server_thread_util=server.busiest_thread_utilisation)


def sse_steps(api_url: str, steps: tuple[int, ...], tokens: int, *, server_session: int,
              upstream_session: int | None, log: Callable[[str], None] = print) -> list[LoadStep]:
    """The single-stream floor, then each step until one fails."""
    floor = sse_step(api_url, 1, tokens, server_session=server_session, upstream_session=upstream_session,
                     floor_ms=None)
    results = [floor]
    log(f"  SSE x1: delay p50 {floor.delay_ms.median:.2f} ms (the floor)")
    for streams in steps:
        step = sse_step(api_url, streams, tokens, server_session=server_session,
                        upstream_session=upstream_session, floor_ms=floor.delay_ms.median)
        results.append(step)
        log(f"  SSE x{streams}: {step.completed}/{streams} complete, added delay p99 {step.added_delay_ms.p99:.1f} ms, "
            f"server {step.server_util:.2f} cores (busiest thread {step.server_thread_util:.2f}), "
            f"{step.cpu_us_per_token:.0f} us/token, client {step.client_util:.2f} cores -> {'pass' if step.passed else 'FAIL'}")
        if not step.passed:
            break
    return results


def ui_step(browser: Browser, target: ChatTarget, upstream: UpstreamProcess, pages: int, tokens: int, *,
            server_session: int, floor_ms: float | None) -> LoadStep:
    """N browser pages asking at once, each answer `tokens` long at RATE."""
    opened = [BenchPage(browser, target) for _ in range(pages)]
    try:
        upstream.reset()
        for p in range(pages):
            upstream.script(answer_tokens(tokens, UI_MARKER_EVERY, base=(p + 1) * UI_BASE), 1 / RATE)
        before = upstream.count()
        for page in opened:
            page.reset()
        server = CpuMeter(session_id=server_session).start()
        chromium = CpuMeter(ancestor=os.getpid(), command="chromium").start()
        for page in opened:
            page.ask(QUESTION)
        deadline = time.monotonic() + tokens / RATE + 30
        completed = 0
        for page in opened:

            def ended(page: BenchPage = page) -> bool:  # its answer's last marker, whichever answer it got
                return any(k % UI_BASE == tokens - 1 for k in page.probe().seen)

            if page.wait_until(ended, deadline - time.monotonic()) and page.wait_idle(deadline - time.monotonic()):
                completed += 1
        server.stop()
        chromium.stop()
        by_base = {}
        for record in upstream.requests(before):
            numbers = [int(m) for m in re.findall(r"zq(\d{5})x", record.first_token)]
            if numbers:
                by_base[numbers[0] - numbers[0] % UI_BASE] = record
        traces = []
        for page in opened:
            seen = page.probe().seen
            if not seen:
                continue
            base = min(seen) - min(seen) % UI_BASE
            record = by_base.get(base)
            if record is None:
                continue
            indexes = [k for k in marker_indexes(answer_tokens(tokens, UI_MARKER_EVERY)) if base + k in seen
                       and k < len(record.token_times)]
            traces.append(_Trace([int(record.token_times[k] * 1e9) for k in indexes],
                                 [int(seen[base + k] * 1e9) for k in indexes]))
        delays, gaps = _steady(traces)
        delivered = pages * tokens
        delay, added, gap = _summaries(delays, gaps, floor_ms)
        return LoadStep("UI", pages, completed, delivered, delay, added, gap, server.cpu_s, server.wall_s,
                        server.utilisation, server.cpu_s / delivered * 1e6, chromium.utilisation, math.nan,
                        passed=completed == pages and added.p99 <= ADDED_DELAY_LIMIT_MS,
                        server_thread_util=server.busiest_thread_utilisation)
    finally:
        for page in opened:
            page.close()


def ui_steps(browser: Browser, target: ChatTarget, upstream: UpstreamProcess, steps: tuple[int, ...],
             tokens: int, *, server_session: int, log: Callable[[str], None] = print) -> list[LoadStep]:
    """Each step (the first, usually 1 page, is the floor of the others)."""
    results: list[LoadStep] = []
    floor_ms: float | None = None
    for pages in steps:
        step = ui_step(browser, target, upstream, pages, tokens, server_session=server_session, floor_ms=floor_ms)
        if floor_ms is None:
            floor_ms = step.delay_ms.median
        results.append(step)
        log(f"  UI x{pages} pages: {step.completed}/{pages} complete, delay p50 {step.delay_ms.median:.1f} / "
            f"p99 {step.delay_ms.p99:.1f} ms, server {step.server_util:.2f} cores, "
            f"{step.cpu_us_per_token:.0f} us/token")
    return results
