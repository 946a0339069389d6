"""How big each scenario is: the full run (`make bench`), `BENCH_QUICK=1`, and the smoke test's tiny one.

What must stay true: the full run keeps the whole `make bench` under about 20 minutes on 2 cores
(scenarios run one after another, never in parallel), and every size the issue names is measured
in the full run (>= 30 first tokens, 2,000-token answers at 50/200/1,000 tok/s, a 10,000-token
answer, 500/2,000/10,000-token wire cost, SSE steps 100, 200, 300, 400, 500..., with 25 and 50
first so that a server that holds fewer than 100 streams is still located).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sizes:
    name: str
    first_token_answers: int  # scenario 1: answers per framework (and SSE floor samples)
    lag_tokens: int  # scenario 2: tokens per answer at each rate
    lag_rates: tuple[int, ...]  # tok/s
    lag_runs: int  # repeated answers per rate (50 tok/s runs once: it is the slow one)
    long_tokens: int  # scenario 2: the long-task answer (also scenario 3's largest size)
    wire_sizes: tuple[int, ...]  # scenario 3: answer lengths (tokens)
    sse_steps: tuple[int, ...]  # scenario 4: concurrent SSE streams per step
    sse_tokens: int  # scenario 4: tokens per SSE stream (at 50 tok/s)
    ui_steps: tuple[int, ...]  # scenario 4: concurrent browser pages per step
    ui_tokens: int
    markdown_tokens: int  # scenario 5
    markdown_runs: int
    peers: bool  # scenario 7


FULL = Sizes(
    name="full",
    first_token_answers=30,
    lag_tokens=2000,
    lag_rates=(50, 200, 1000),
    lag_runs=3,
    long_tokens=10_000,
    wire_sizes=(500, 2000, 10_000),
    sse_steps=(25, 50, 100, 200, 300, 400, 500, 700, 1000),
    sse_tokens=400,
    ui_steps=(1, 4, 8, 16),
    ui_tokens=300,
    markdown_tokens=10_000,
    markdown_runs=5,
    peers=True,
)

QUICK = Sizes(
    name="quick",
    first_token_answers=10,
    lag_tokens=500,
    lag_rates=(50, 200, 1000),
    lag_runs=1,
    long_tokens=3000,
    wire_sizes=(300, 1000),
    sse_steps=(25, 50, 100, 200),
    sse_tokens=150,
    ui_steps=(1, 4),
    ui_tokens=150,
    markdown_tokens=3000,
    markdown_runs=2,
    peers=True,
)

TINY = Sizes(
    name="tiny",
    first_token_answers=3,
    lag_tokens=100,
    lag_rates=(1000,),
    lag_runs=1,
    long_tokens=300,
    wire_sizes=(100,),
    sse_steps=(5,),
    sse_tokens=20,
    ui_steps=(1,),
    ui_tokens=50,
    markdown_tokens=400,
    markdown_runs=1,
    peers=False,
)


def from_env() -> Sizes:
    """FULL, or QUICK when BENCH_QUICK is set to anything but 0/empty."""
    return QUICK if os.environ.get("BENCH_QUICK", "0") not in ("", "0") else FULL
