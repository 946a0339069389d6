"""The clock of one answer: time to first token, tokens, tokens per second, total duration.

Started when the question is received, so time to first token includes retrieval, as a user
experiences it. Monotonic time only. Any consumer (pipeline, UI) can keep one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from chatui.events import Stats


@dataclass(slots=True)
class AnswerClock:
    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    last_token: float | None = None
    tokens: int = 0

    def token(self) -> None:
        now = time.perf_counter()
        if self.first_token is None:
            self.first_token = now
        self.last_token = now
        self.tokens += 1

    def stats(self) -> Stats:
        now = time.perf_counter()
        ttft = None if self.first_token is None else (self.first_token - self.started) * 1000
        generating = (now - self.first_token) if self.first_token is not None else 0.0
        # Tokens after the first, over the time since it arrived: the streaming rate a reader sees.
        rate = (self.tokens - 1) / generating if self.tokens > 1 and generating > 0 else 0.0
        return Stats(
            ttft_ms=None if ttft is None else round(ttft, 1),
            output_tokens=self.tokens,
            tokens_per_s=round(rate, 1),
            duration_ms=round((now - self.started) * 1000, 1),
        )
