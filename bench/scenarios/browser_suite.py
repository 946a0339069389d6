"""One framework's chat page in a real browser, through the answers scenarios 1-3 need.

For each answer: queue its tokens on the fake upstream at a fixed rate, type the question, wait
until the last marker word is in the DOM and the page is idle, then read what the probe saw (when
each marker reached the DOM, long tasks), the bytes the page received meanwhile, and the CPU the
framework's server spent. Latency of a marker = its first time in the DOM minus the time the
upstream sent that token (both on the harness's monotonic clock).

What must stay true: every framework gets the same answers, in the same order, on the same
harness, after one unrecorded warm-up answer; a fresh browser context (a fresh session) for every
long answer, and every 10 short ones.
An answer that does not finish in time is recorded as incomplete, not dropped.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.browser import BenchPage, Browser, ChatTarget
from bench.corpus import answer_tokens, marker_indexes
from bench.cpu import CpuMeter
from bench.sizes import Sizes
from bench.upstream import UpstreamProcess, UpstreamRecord

QUESTION = "How do I install chatui and add my own documents?"
FIRST_TOKEN_TOKENS = 10  # scenario 1 answers: short, at 50 tok/s
FIRST_TOKEN_RATE = 50
WIRE_RATE = 1000  # scenario 3's 500-token answers (the 2,000 and long ones come from scenario 2)
PAGE_REUSE = 10  # short answers per browser context
ANSWER_GRACE_S = 20  # an answer not shown this long after the upstream's nominal end is incomplete


@dataclass(frozen=True, slots=True)
class AnswerRun:
    framework: str
    purpose: str  # first-token | lag | wire | long
    tokens: int
    rate: float  # tok/s asked of the upstream
    achieved_rate: float  # tok/s the upstream actually sent (first to last token)
    completed: bool
    first_token_ms: float  # DOM time of token 0 minus its upstream send time
    last_token_ms: float  # the same for the last token
    marker_lags_ms: tuple[float, ...]  # every marker, in order
    longtask_count: int
    longtask_total_ms: float
    longtask_max_ms: float
    received_bytes: int  # websocket payloads + HTTP bodies received by the page during the answer
    received_on_wire: int  # the same with websocket compression (permessage-deflate) applied, if negotiated
    ws_frames: int
    answer_bytes: int  # UTF-8 bytes of the answer's text
    server_cpu_s: float
    browser_cpu_s: float  # every Chromium process (one page open at a time)
    duration_s: float  # Enter to idle
    on_page: int = 0  # answers already on the page (its conversation) when this one was asked


def _finished(upstream: UpstreamProcess, before: int, wait_s: float = 30) -> list[UpstreamRecord]:
    """The answer's upstream record once the upstream is done with it, so the next answer starts on a
    quiet server even when this one timed out in the page."""
    deadline = time.monotonic() + wait_s
    while True:
        records = upstream.requests(before)
        if (records and (records[0].completed_at or records[0].disconnected_at)) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def _lag_ms(seen: dict[int, float], record: UpstreamRecord | None, index: int, base: int) -> float:
    if record is None or base + index not in seen or index >= len(record.token_times):
        return math.nan
    return (seen[base + index] - record.token_times[index]) * 1000


def one_answer(page: BenchPage, upstream: UpstreamProcess, session_id: int, *, purpose: str,
               tokens: int, rate: float, marker_every: int, base: int = 0, on_page: int = 0) -> AnswerRun:
    """One answer on `page`. Answers sharing a page need distinct marker `base`s: an old answer's
    text that a framework re-renders must not pass for the new one's."""
    text = answer_tokens(tokens, marker_every, base)
    markers = marker_indexes(text)
    upstream.reset()  # nothing left over from an answer that failed
    upstream.script(text, 1 / rate)
    before = upstream.count()
    page.reset()
    cpu = CpuMeter(session_id=session_id).start()
    browser_cpu = CpuMeter(ancestor=os.getpid(), command="chromium").start()
    asked = page.ask(QUESTION)
    completed = page.wait_answer(base + markers[-1], timeout_s=tokens / rate + ANSWER_GRACE_S)
    cpu.stop()
    browser_cpu.stop()
    duration = time.monotonic() - asked
    probe = page.probe()
    records = _finished(upstream, before)
    record = records[0] if records else None
    times = record.token_times if record else ()
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else math.nan
    tasks = [duration_ms for start, duration_ms in probe.longtasks if start >= asked - 0.05]
    return AnswerRun(
        framework=page.target.name, purpose=purpose, tokens=tokens, rate=rate, achieved_rate=achieved,
        completed=completed, first_token_ms=_lag_ms(probe.seen, record, markers[0], base),
        last_token_ms=_lag_ms(probe.seen, record, markers[-1], base),
        marker_lags_ms=tuple(_lag_ms(probe.seen, record, k, base) for k in markers),
        longtask_count=len(tasks), longtask_total_ms=sum(tasks), longtask_max_ms=max(tasks, default=0.0),
        received_bytes=page.wire.received, received_on_wire=page.wire.received_on_wire, ws_frames=page.wire.ws_frames,
        answer_bytes=len("".join(text).encode()), server_cpu_s=cpu.cpu_s, browser_cpu_s=browser_cpu.cpu_s, duration_s=duration,
        on_page=on_page,
    )


def run_suite(browser: Browser, target: ChatTarget, upstream: UpstreamProcess, session_id: int,
              sizes: Sizes, log: Callable[[str], None] = print) -> list[AnswerRun]:
    """Scenario 1's short answers, scenario 2's lag and long answers, scenario 3's small answers."""
    runs: list[AnswerRun] = []

    def fresh_page() -> BenchPage:
        return BenchPage(browser, target)

    def record(run: AnswerRun) -> None:
        runs.append(run)
        state = "" if run.completed else " INCOMPLETE"
        log(f"  {target.name} {run.purpose} {run.tokens} tok @ {run.rate:g}/s: first {run.first_token_ms:.1f} ms, "
            f"last {run.last_token_ms:.1f} ms, {run.received_bytes:,} B, {run.longtask_count} long tasks{state}")

    page = fresh_page()
    try:
        # A warm-up answer, not recorded: the first answer of a fresh server also pays for imports,
        # opening the knowledge base and connecting to the upstream.
        one_answer(page, upstream, session_id, purpose="warm-up", tokens=FIRST_TOKEN_TOKENS, rate=FIRST_TOKEN_RATE,
                   marker_every=FIRST_TOKEN_TOKENS, base=0)
        page.close()
        page, on_page = fresh_page(), 0
        for i in range(sizes.first_token_answers):
            if on_page == PAGE_REUSE:
                page.close()
                page, on_page = fresh_page(), 0
            run = one_answer(page, upstream, session_id, purpose="first-token", tokens=FIRST_TOKEN_TOKENS,
                             rate=FIRST_TOKEN_RATE, marker_every=FIRST_TOKEN_TOKENS, base=100 * (i + 1), on_page=on_page)
            record(run)
            on_page += 1
            if not run.completed:  # the page may be stuck: the next answer gets a fresh one
                page.close()
                page, on_page = fresh_page(), 0
        page.close()
        plan = [("lag", sizes.lag_tokens, rate, 100) for rate in sizes.lag_rates
                for _ in range(1 if rate < 100 and sizes.lag_runs > 1 else sizes.lag_runs)]
        plan += [("wire", n, WIRE_RATE, 100) for n in sizes.wire_sizes
                 if n not in (sizes.lag_tokens, sizes.long_tokens)] * max(1, sizes.lag_runs)
        plan += [("long", sizes.long_tokens, 1000, 250)]
        for purpose, tokens, rate, every in plan:
            page = fresh_page()
            record(one_answer(page, upstream, session_id, purpose=purpose, tokens=tokens, rate=rate,
                              marker_every=every))
            page.close()
    finally:
        page.close()
    return runs
