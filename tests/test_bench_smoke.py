"""Smoke test of the benchmark harness (bench/), with tiny sizes and without a browser or the Reflex app.

The benchmark itself is not a test (see bench/README.md); this only checks that its non-browser
parts still run against the current code: the SSE concurrency step (scenario 4: the ticker upstream,
chatui's API served in this process, aiohttp clients, then the bare relay under granian), the
Markdown comparison (scenario 5), saving and reloading the results, and writing RESULTS.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bench import report
from bench.corpus import MARKER, answer_tokens, marker_indexes
from bench.harness import ServerProcess, free_port, start_relay
from bench.record import BenchRecord, Environment
from bench.scenarios import concurrency, markdown
from bench.sizes import TINY
from chatui.api import create_api
from chatui.config import Settings
from tests.conftest import changed
from tests.servers import ServerThread

REPO = Path(__file__).resolve().parents[1]


def test_bench_corpus_has_n_tokens_and_markers_at_both_ends():
    for n in (1, 2, 7, 300, 1001):
        tokens = answer_tokens(n, marker_every=50, base=3000)
        assert len(tokens) == n
        found = [int(m) for t in tokens for m in MARKER.findall(t)]
        assert found[0] == 3000 and found[-1] == 3000 + n - 1
        assert marker_indexes(tokens)[-1] == n - 1


@pytest.fixture
def ticker(tmp_path: Path) -> ServerProcess:
    port = free_port()
    command = [sys.executable, "-m", "bench.ticker", "--port", str(port), "--rate", "50",
               "--tokens", str(TINY.sse_tokens)]
    with ServerProcess("ticker", command, cwd=REPO, env=dict(os.environ), ready=[f"http://127.0.0.1:{port}/health"],
                       log=tmp_path / "ticker.log", timeout_s=20) as server:
        yield server


def test_bench_smoke_sse_concurrency_markdown_and_report(kb_settings: Settings, ticker: ServerProcess,
                                                         tmp_path: Path):
    base_url = ticker.ready[0].removesuffix("/health")
    settings = changed(kb_settings, provider="openai", openai_api_key="sk-bench", openai_base_url=base_url + "/v1")
    with ServerThread(create_api(settings)) as api:
        steps = concurrency.sse_steps(api.base_url, TINY.sse_steps, TINY.sse_tokens, server_session=os.getsid(0),
                                      upstream_session=ticker.session_id, log=lambda _: None)
    relay, relay_url = start_relay(base_url + "/v1", tmp_path)
    try:
        relay_steps = concurrency.sse_steps(relay_url, TINY.sse_steps, TINY.sse_tokens,
                                            server_session=relay.session_id, upstream_session=ticker.session_id,
                                            log=lambda _: None)
    finally:
        relay.stop()
    for measured in (steps, relay_steps):
        assert [s.streams for s in measured] == [1, *TINY.sse_steps]
        for step in measured:
            assert step.completed == step.streams, "every stream read all its tokens and a done(stop)"
            assert step.tokens == step.streams * TINY.sse_tokens
            assert step.delay_ms.n > 0 and step.delay_ms.median >= 0
    assert relay_steps[-1].server_cpu_s > 0, "the relay's own process was measured"
    busiest = relay_steps[-1].server_thread_util
    assert 0 < busiest <= relay_steps[-1].server_util + 0.01, "its busiest thread is one of its threads"

    rendered = markdown.run(TINY.markdown_tokens, TINY.markdown_runs)
    assert [m.rate for m in rendered] == list(markdown.RATES)
    assert all(m.identical and m.incremental_ms.median > 0 for m in rendered)

    env = Environment("2026-01-01T00:00:00", "tiny", 2, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), "3", "r", "c", "x", 1.0)
    record = BenchRecord(env, sse_steps=steps, relay_steps=relay_steps, markdown=rendered)
    record.save(tmp_path / "results.json")
    assert BenchRecord.load(tmp_path / "results.json") == record
    report.write(record, tmp_path, log=lambda _: None, draw_plots=False)
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## 4. Server cost and concurrency" in text and "## 5. Markdown rendering" in text
    assert f"(bare relay: {TINY.sse_steps[-1]})" in text
