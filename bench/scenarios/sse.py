"""The floor: the same answers read from chatui's SSE API (`POST /api/chat/stream`) by a plain
HTTP client (httpx), on the same app, from the same fake upstream.

A marker's latency is the time the client read the chunk holding it minus the time the upstream
sent that token; bytes are the response body as received (the API does not compress). This is
what a UI cannot beat: the pipeline's own cost plus one hop.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import httpx

from bench.corpus import MARKER, answer_tokens, marker_indexes
from bench.scenarios.browser_suite import QUESTION
from bench.upstream import UpstreamProcess


@dataclass(frozen=True, slots=True)
class SseRun:
    purpose: str
    tokens: int
    rate: float  # 0 = unpaced
    first_token_ms: float
    last_token_ms: float
    marker_lags_ms: tuple[float, ...]
    body_bytes: int
    answer_bytes: int


def sse_answer(api_url: str, upstream: UpstreamProcess, *, purpose: str, tokens: int, rate: float,
               marker_every: int = 100) -> SseRun:
    text = answer_tokens(tokens, marker_every)
    markers = marker_indexes(text)
    upstream.reset()  # nothing left over from an answer that failed
    upstream.script(text, 1 / rate if rate else 0.0)
    before = upstream.count()
    seen: dict[int, float] = {}
    body = 0
    carry = b""
    with httpx.stream("POST", api_url + "/api/chat/stream", json={"message": QUESTION}, timeout=120) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            now = time.monotonic()
            body += len(chunk)
            window = carry + chunk  # a marker split across two reads is still found
            for match in MARKER.finditer(window.decode("utf-8", "ignore")):
                seen.setdefault(int(match[1]), now)
            carry = chunk[-16:]
    records = upstream.requests(before)
    times = records[0].token_times if records else ()

    def lag(index: int) -> float:
        return (seen[index] - times[index]) * 1000 if index in seen and index < len(times) else math.nan

    return SseRun(purpose, tokens, rate, lag(markers[0]), lag(markers[-1]), tuple(lag(k) for k in markers),
                  body, len("".join(text).encode()))
