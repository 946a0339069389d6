"""Scenario 5: the server's Markdown cost over a streamed answer, vs rendering the finished text once.

`chatui.rendering.IncrementalMarkdown` is driven as chatui/state.py drives it: every token is
fed, and `update()` runs once per ~16 ms frame (what `chatui.coalesce.frames` batches), on a
simulated clock, so the 100 ms tail debounce sees the times of a real stream at that rate without
the benchmark waiting for them; `finish()` ends it. CPU time (time.process_time) of all of that is
compared with one `render_markdown()` of the whole text. The answer is bench.corpus's (paragraphs,
headings, lists and Python code blocks). A run also checks the renderer's promise that the frozen
HTML of all updates is byte-identical to the one-shot render.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.corpus import answer_tokens
from bench.stats import Summary
from chatui.coalesce import FRAME_S
from chatui.rendering import IncrementalMarkdown, render_markdown

RATES = (50, 200, 1000)


@dataclass(frozen=True, slots=True)
class MarkdownResult:
    rate: int  # tok/s of the simulated stream
    tokens: int
    updates: int
    incremental_ms: Summary  # CPU ms over the runs
    oneshot_ms: Summary
    identical: bool  # frozen HTML of the stream == one-shot HTML


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _stream(tokens: list[str], rate: int) -> tuple[float, int, str]:
    """(CPU seconds, updates, frozen HTML) of one streamed render."""
    clock = _Clock()
    md = IncrementalMarkdown(clock=clock)
    per_frame = max(1, round(rate * FRAME_S))  # tokens arriving within one frame
    frozen: list[str] = []
    updates = 0
    started = time.process_time()
    for i in range(0, len(tokens), per_frame):
        for token in tokens[i : i + per_frame]:
            md.feed(token)
        clock.now += per_frame / rate
        frozen.append(md.update().frozen_html)
        updates += 1
    frozen.append(md.finish().frozen_html)
    return time.process_time() - started, updates, "".join(frozen)


def run(tokens: int, runs: int) -> list[MarkdownResult]:
    text = answer_tokens(tokens)
    whole = "".join(text)
    _stream(text[:500], 1000)  # warm up: lexers, caches
    results = []
    for rate in RATES:
        incremental, oneshot, updates, identical = [], [], 0, True
        for _ in range(runs):
            cpu, updates, html = _stream(text, rate)
            incremental.append(cpu * 1000)
            started = time.process_time()
            expected = render_markdown(whole)
            oneshot.append((time.process_time() - started) * 1000)
            identical = identical and html == expected
        results.append(MarkdownResult(rate, tokens, updates, Summary.of(incremental), Summary.of(oneshot), identical))
    return results
