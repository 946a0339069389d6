"""RESULTS.md from a BenchRecord: a table per scenario (medians and p95s of repeated runs, ratios),
the goals of the issue with a verdict each, chatui/peer ratios, and the plots (bench/plots.py).

Conventions: latencies in ms, lower is better for every metric, so a chatui/peer ratio below 1 means
chatui is better. "n/a" means not measured (a peer that did not run, an answer that never finished).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bench.record import BenchRecord
from bench.scenarios.browser_suite import WIRE_RATE, AnswerRun
from bench.scenarios.concurrency import ADDED_DELAY_LIMIT_MS, LoadStep
from bench.stats import Summary, fmt, percentile, ratio

FRAME_MS = 1000 / 60
ORDER = ("chatui", "Streamlit", "Gradio", "Chainlit")


REPRODUCE = ("Reproduce with `make bench` (about 20 minutes; `BENCH_QUICK=1 make bench` for a smaller pass). "
             "How each number is taken: [bench/README.md](../README.md).")
PEERS_INTRO = ("Same fake upstream, same browser harness, same answers. Below 1 = chatui is better; n/a = not "
               "measured or the answer never finished (see the tables below).")
FIRST_TOKEN_INTRO = (
    "From the upstream sending the first token to that token being in the page's DOM (a MutationObserver "
    "timestamp, on the harness's clock), or read by httpx from chatui's SSE API on the same app (the floor). "
    "Short answers at 50 tok/s; a fresh browser session every 10 answers."
)
LAG_INTRO = (
    "Answers of the same Markdown (paragraphs, lists, code) at fixed rates. Lag = the DOM showing a token minus "
    "the upstream sending it: for the last token (median and p95 over the runs), and for every marker word "
    "(about every 100th token) along the answers."
)
LONG_TASKS_INTRO = "Main-thread long tasks (PerformanceObserver `longtask`, > 50 ms) while the long answer streams:"
WIRE_INTRO = (
    f"Bytes the page received while the answer streamed (websocket payloads and HTTP bodies, counted through the "
    f"DevTools protocol), at {WIRE_RATE} tok/s, vs the answer's own UTF-8 bytes and vs chatui's SSE API for the same "
    "answer. Payloads are counted as the page's JavaScript receives them; where the server negotiated "
    "permessage-deflate, the last column estimates the compressed size (zlib, as RFC 7692 specifies)."
)
MARGINS_INTRO = ("Marginal bytes per token between answer lengths (flat: no token costs more because the answer is "
                 "longer; the fixed cost of an answer shows only in the table above):")
BY_RATE_INTRO = "The same by token rate (fewer tokens per websocket frame at lower rates):"
SSE_LOAD_INTRO = (
    "SSE API: aiohttp clients on the app's own server (`reflex run --env prod`: granian, one worker process), "
    "fed by `bench/ticker.py`. Delay = client read minus upstream send; added = over a single stream's median; a step "
    f"holds when all streams complete with p99 added delay ≤ {ADDED_DELAY_LIMIT_MS} ms. Clients, upstream and server "
    "share the 2 cores (their CPU is in the table). \"Its busiest thread\" is the server's event loop: the Python "
    "work of every stream runs on that one thread, which cannot pass 1.0 however many cores are free (granian's "
    "I/O thread takes most of the rest of \"server cores\"). Steps can fail before it is full: the p99 also holds "
    "the time a ready thread waits for one of the 2 cores."
)
RELAY_LOAD_INTRO = (
    "The floor: the same steps, clients and ticker on `bench/relay.py`, a bare ASGI relay under granian (one worker, "
    "as the app runs) that reads the upstream with aiohttp and writes one SSE token event per token: no SDK, "
    "retrieval, pipeline or middleware. What chatui holds next to this is the cost of chatui itself; what this "
    "holds is the most one Python process of this stack holds on this machine."
)
UI_LOAD_INTRO = ("UI path: browser pages in one headless Chromium, each streaming an answer at 50 tok/s from the "
                 "suite's fake upstream. The browser shares the 2 cores: once its CPU nears them, it is the browser, "
                 "not the server, that this step measures.")
CPU_INTRO = ("CPU per token, end to end: CPU time of the server's whole process tree, and of all Chromium "
             "processes, over the answer / its tokens (complete 2,000-token answers; median of runs). Headless "
             "Chromium without a GPU rasterises in software, so its numbers compare frameworks, not real browsers:")
MARKDOWN_INTRO = (
    "`IncrementalMarkdown` fed token by token with one update per 16.7 ms frame (simulated clock), vs one "
    "`render_markdown` of the finished text; CPU time in this process, median and p95 over repeated runs."
)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _ok(passed: bool | None) -> str:
    return "n/a" if passed is None else ("**pass**" if passed else "**FAIL**")


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if v is not None and not math.isnan(v)]


class _View:
    """Selections of a record's runs."""

    def __init__(self, record: BenchRecord) -> None:
        self.r = record
        present = {run.framework for run in record.browser_runs}
        self.frameworks = [f for f in ORDER if f in present]
        self.peers = [f for f in self.frameworks if f != "chatui"]

    def runs(self, framework: str, purpose: str | None = None, *, tokens: int | None = None,
             rate: float | None = None) -> list[AnswerRun]:
        return [r for r in self.r.browser_runs if r.framework == framework and (purpose is None or r.purpose == purpose)
                and (tokens is None or r.tokens == tokens) and (rate is None or r.rate == rate)]

    def size_runs(self, framework: str, tokens: int) -> list[AnswerRun]:
        """Every answer of `tokens` streamed at WIRE_RATE, whatever scenario it was for."""
        return self.runs(framework, tokens=tokens, rate=WIRE_RATE)

    def sse(self, purpose: str, *, tokens: int | None = None, rate: float | None = None):
        return [s for s in self.r.sse_runs if s.purpose == purpose and (tokens is None or s.tokens == tokens)
                and (rate is None or s.rate == rate)]

    def lag_rates(self) -> list[float]:
        return sorted({r.rate for r in self.r.browser_runs if r.purpose == "lag"})

    def lag_tokens(self) -> int | None:
        return next((r.tokens for r in self.r.browser_runs if r.purpose == "lag"), None)

    def sizes(self) -> list[int]:
        return sorted({r.tokens for r in self.r.browser_runs if r.rate == WIRE_RATE and r.purpose != "first-token"})


def _median(values: Iterable[float]) -> float:
    return percentile(_finite(values), 50)


def _first_token(v: _View) -> tuple[str, dict[str, float]]:
    floor = Summary.of(_finite(s.first_token_ms for s in v.sse("first-token")))
    rows = [["chatui SSE API + httpx (the floor)", floor.n, fmt(floor.median), fmt(floor.p95), "–", "–"]]
    chatui = Summary.of(_finite(r.first_token_ms for r in v.runs("chatui", "first-token")))
    facts = {"floor_p95": floor.p95, "chatui_p95": chatui.p95, "added_p95": chatui.p95 - floor.p95}
    for name in v.frameworks:
        runs = v.runs(name, "first-token")
        s = Summary.of(_finite(r.first_token_ms for r in runs))
        missing = len(runs) - s.n
        rows.append([f"{name} page" + (f" ({missing} never shown)" if missing else ""), s.n, fmt(s.median), fmt(s.p95),
                     fmt(s.p95 - floor.p95), ratio(chatui.median, s.median) if name != "chatui" else "1.00×"])
        facts[f"{name}_median"], facts[f"{name}_p95"] = s.median, s.p95
    text = _table(["Path", "answers", "median ms", "p95 ms", "p95 over the floor, ms", "chatui / this (median)"], rows)
    # The same short answers' bytes by how much conversation the page already held.
    positions = sorted({r.on_page for r in v.r.browser_runs if r.purpose == "first-token"})
    if positions:
        rows = [[name, *[fmt(_median(r.received_bytes for r in v.runs(name, "first-token") if r.on_page == p), 0)
                         for p in positions]] for name in v.frameworks]
        text += "\n\nBytes the page received for one of these 10-token answers, by answers already on the page:\n\n"
        text += _table(["Page", *[str(p) for p in positions]], rows)
    return text, facts


def _lag(v: _View) -> tuple[str, dict[str, float]]:
    rows, facts = [], {}
    for rate in v.lag_rates():
        floor = v.sse("lag", rate=rate)
        if floor:
            marks = _finite(x for s in floor for x in s.marker_lags_ms)
            rows.append(["chatui SSE API (floor)", fmt(rate, 0), "–", fmt(_median(s.last_token_ms for s in floor)), "–",
                         fmt(percentile(marks, 50)), fmt(percentile(marks, 95)), fmt(max(marks, default=math.nan)),
                         f"{len(floor)}/{len(floor)}"])
        for name in v.frameworks:
            runs = v.runs(name, "lag", rate=rate)
            if not runs:
                continue
            last = Summary.of(_finite(r.last_token_ms for r in runs))
            marks = _finite(x for r in runs for x in r.marker_lags_ms)
            rows.append([name, fmt(rate, 0), fmt(_median(r.achieved_rate for r in runs), 0), fmt(last.median), fmt(last.p95),
                         fmt(percentile(marks, 50)), fmt(percentile(marks, 95)), fmt(max(marks, default=math.nan)),
                         f"{sum(r.completed for r in runs)}/{len(runs)}"])
            facts[f"{name}_last_p95_{rate:g}"], facts[f"{name}_last_median_{rate:g}"] = last.p95, last.median
    headers = ["Path", "tok/s asked", "tok/s sent", "last token: median ms", "p95 ms", "every marker: p50 ms", "p95 ms",
               "max ms", "complete"]
    return _table(headers, rows), facts


def _long(v: _View) -> tuple[str, dict[str, float]]:
    rows, facts = [], {}
    for name in v.frameworks:
        for run in v.runs(name, "long"):
            nominal = run.tokens / run.rate
            rows.append([name, f"{run.tokens:,}", fmt(run.rate, 0), run.longtask_count, fmt(run.longtask_total_ms, 0),
                         fmt(run.longtask_max_ms, 0), fmt(run.last_token_ms), f"{run.duration_s:.1f} s ({nominal:.0f} s sent)",
                         "yes" if run.completed else "**no**"])
            facts[f"{name}_longtasks"] = run.longtask_count
    headers = ["Page", "tokens", "tok/s", "long tasks (> 50 ms)", "their total ms", "longest ms", "last-token lag ms",
               "Enter to idle", "complete"]
    return _table(headers, rows), facts


def _wire(v: _View) -> tuple[str, str, str, dict[str, float]]:
    rows, facts = [], {}
    for tokens in v.sizes():
        sse = v.sse("wire", tokens=tokens)
        sse_bytes = _median(s.body_bytes for s in sse)
        answer = _median(s.answer_bytes for s in sse) if sse else math.nan
        rows.append(["chatui SSE API", f"{tokens:,}", fmt(sse_bytes, 0), fmt(sse_bytes / tokens), ratio(sse_bytes, answer),
                     "1.00×", fmt(sse_bytes, 0)])
        for name in v.frameworks:
            every = v.size_runs(name, tokens)
            runs = [r for r in every if r.completed]  # an unfinished answer did not receive all its bytes
            if not runs:
                if every:
                    rows.append([f"{name} (never finished)", f"{tokens:,}", "n/a", "n/a", "n/a", "n/a", "n/a"])
                continue
            got = _median(r.received_bytes for r in runs)
            answer = runs[0].answer_bytes
            deflated = _median(r.received_on_wire for r in runs)
            rows.append([name, f"{tokens:,}", fmt(got, 0), fmt(got / tokens), ratio(got, answer), ratio(got, sse_bytes),
                         fmt(deflated, 0) if deflated != got else "same"])
            facts[f"{name}_bpt_{tokens}"], facts[f"{name}_vs_sse_{tokens}"] = got / tokens, got / sse_bytes
    by_size = _table(["Path", "tokens", "bytes received", "bytes/token", "× answer text", "× SSE API",
                      "with websocket compression (est.)"], rows)
    # Marginal bytes per token between consecutive sizes: flat when the answer's length does not
    # make each token dearer (a fixed cost per answer only shows at the small sizes).
    sizes = v.sizes()
    intervals = list(itertools.pairwise(sizes))
    margin_rows = []
    def size_bytes(name: str, n: int) -> float:
        if name == "chatui SSE API":
            return _median(s.body_bytes for s in v.sse("wire", tokens=n))
        return _median(r.received_bytes for r in v.size_runs(name, n) if r.completed)

    for name in ["chatui SSE API", *v.frameworks]:
        margins = [(size_bytes(name, n2) - size_bytes(name, n1)) / (n2 - n1) for n1, n2 in intervals]
        growth = margins[-1] / margins[0] if len(margins) > 1 and margins[0] > 0 else math.nan
        facts[f"{name}_margin_growth"] = growth
        margin_rows.append([name, *[fmt(m) for m in margins], ratio(margins[-1], margins[0]) if len(margins) > 1 else "n/a"])
    margins_table = _table(["Path", *[f"{a:,}→{b:,} tokens" for a, b in intervals], "last / first"], margin_rows)
    rows = []
    tokens = v.lag_tokens()
    sse_bytes = _median(s.body_bytes for s in v.sse("wire", tokens=tokens)) if tokens else math.nan
    for rate in v.lag_rates():
        for name in v.frameworks:
            runs = [r for r in v.runs(name, "lag", rate=rate) if r.completed]
            if runs:
                got = _median(r.received_bytes for r in runs)
                frames = _median(r.ws_frames for r in runs)
                rows.append([name, fmt(rate, 0), f"{tokens:,}", fmt(got, 0), fmt(got / tokens), fmt(frames, 0), ratio(got, sse_bytes)])
                facts[f"{name}_vs_sse_rate_{rate:g}"], facts[f"{name}_bpt_rate_{rate:g}"] = got / sse_bytes, got / tokens
    by_rate = _table(["Page", "tok/s", "tokens", "bytes received", "bytes/token", "websocket frames", "× SSE API"], rows)
    return by_size, margins_table, by_rate, facts


def _steps(steps: list[LoadStep], unit: str, client: str) -> str:
    rows = []
    for s in steps:
        rows.append([f"{s.streams:,}", f"{s.completed:,}", f"{s.tokens:,}", fmt(s.delay_ms.median), fmt(s.delay_ms.p99),
                     fmt(s.added_delay_ms.p99), fmt(s.added_gap_ms.p99), fmt(s.server_util, 2),
                     fmt(s.server_thread_util, 2), fmt(s.cpu_us_per_token, 0),
                     fmt(s.client_util, 2), fmt(s.upstream_util, 2), _ok(s.passed)])
    return _table([unit, "complete", "tokens", "delay p50 ms", "delay p99 ms", "added delay p99 ms", "added gap p99 ms",
                   "server cores", "its busiest thread", "server CPU µs/token", client, "upstream cores", "holds"],
                  rows)


def _cpu(v: _View) -> tuple[str, dict[str, float]]:
    rows, facts = [], {}
    for name in v.frameworks:
        for rate in v.lag_rates():
            runs = [r for r in v.runs(name, "lag", rate=rate) if r.completed]
            if runs:
                per_token = _median(r.server_cpu_s / r.tokens * 1e6 for r in runs)
                browser = _median(r.browser_cpu_s / r.tokens * 1e6 for r in runs)
                rows.append([f"{name} page", fmt(rate, 0), fmt(per_token, 0), fmt(browser, 0)])
                facts[f"{name}_cpu_{rate:g}"], facts[f"{name}_browser_cpu_{rate:g}"] = per_token, browser
    for step in v.r.sse_steps[:2]:
        rows.append([f"chatui SSE API, {step.streams} stream(s)", "50", fmt(step.cpu_us_per_token, 0), "–"])
    return _table(["Path", "tok/s", "server CPU µs per token", "browser CPU µs per token"], rows), facts


def _markdown(v: _View) -> tuple[str, dict[str, float]]:
    rows, facts = [], {}
    for m in v.r.markdown:
        r = m.incremental_ms.median / m.oneshot_ms.median
        rows.append([fmt(m.rate, 0), f"{m.tokens:,}", f"{m.updates:,}", fmt(m.incremental_ms.median), fmt(m.incremental_ms.p95),
                     fmt(m.oneshot_ms.median), fmt(m.oneshot_ms.p95), f"{r:.2f}×", "yes" if m.identical else "**no**", _ok(r <= 3)])
        facts[f"md_{m.rate}"] = r
    headers = ["tok/s", "tokens", "updates", "streamed CPU ms (median)", "p95", "one render ms (median)", "p95",
               "ratio", "same HTML", "≤ 3×"]
    return _table(headers, rows), facts


def _held(steps: list[LoadStep]) -> int:
    """The most concurrent streams of a step that held (the single-stream floor step does not count)."""
    return max((s.streams for s in steps if s.passed and s.streams > 1), default=0)


def _goals(v: _View, f: dict[str, float]) -> str:
    def val(key: str) -> float:
        return f.get(key, math.nan)

    def check(value: float, limit: float) -> bool | None:
        return None if math.isnan(value) else value <= limit

    sizes = v.sizes()
    vs_sse = _finite([val(f"chatui_vs_sse_{n}") for n in sizes] + [val(f"chatui_vs_sse_rate_{r:g}") for r in v.lag_rates()])
    flat = val("chatui_margin_growth")
    held = _held(v.r.sse_steps)
    floor = f" (bare relay: {_held(v.r.relay_steps):,})" if v.r.relay_steps else ""
    top_rate = max(v.lag_rates(), default=math.nan)
    mds = _finite(val(f"md_{m.rate}") for m in v.r.markdown)
    rows = [
        ["1. UI time to first token over the SSE floor, p95", f"≤ {FRAME_MS:.1f} ms", f"{fmt(val('added_p95'))} ms",
         _ok(check(val("added_p95"), FRAME_MS))],
        [f"2. Last-token lag at {fmt(top_rate, 0)} tok/s, p95 of runs", "≤ 100 ms",
         f"{fmt(val(f'chatui_last_p95_{top_rate:g}'))} ms", _ok(check(val(f"chatui_last_p95_{top_rate:g}"), 100))],
        ["2. Long tasks during the long answer", "0", fmt(val("chatui_longtasks"), 0), _ok(check(val("chatui_longtasks"), 0))],
        ["3. Page bytes vs SSE API bytes (worst size or rate)", "≤ 2×", f"{fmt(max(vs_sse, default=math.nan), 2)}×",
         _ok(check(max(vs_sse, default=math.nan), 2))],
        ["3. Flat per-token cost (marginal bytes/token, longest answers / shortest)", "≤ 1.25×", f"{fmt(flat, 2)}×",
         _ok(check(flat, 1.25))],
        ["4. Concurrent SSE streams at 50 tok/s, one process", "≥ 500", f"{held:,}{floor}" if v.r.sse_steps else "n/a",
         _ok(held >= 500 if v.r.sse_steps else None)],
        ["5. Streamed Markdown CPU vs one render (worst rate)", "≤ 3×", f"{fmt(max(mds, default=math.nan), 2)}×",
         _ok(check(max(mds, default=math.nan), 3))],
    ]
    return _table(["Goal", "target", "measured", "verdict"], rows)


def _peers(v: _View, f: dict[str, float]) -> str:
    if not v.peers:
        return "No peer ran in this run."
    top = max(v.lag_rates(), default=math.nan)
    mid = 200.0 if 200.0 in v.lag_rates() else top
    size = v.lag_tokens()
    metrics = [
        ("time to first token, median ms", "{}_median"), ("time to first token, p95 ms", "{}_p95"),
        (f"last-token lag at {mid:g} tok/s, median ms", "{}_last_median_" + f"{mid:g}"),
        (f"last-token lag at {top:g} tok/s, median ms", "{}_last_median_" + f"{top:g}"),
        ("long tasks in the long answer", "{}_longtasks"),
        (f"bytes per token, {size} tokens at {WIRE_RATE} tok/s", "{}_bpt_" + str(size)),
        (f"bytes per token at {mid:g} tok/s", "{}_bpt_rate_" + f"{mid:g}"),
        (f"server CPU µs per token at {mid:g} tok/s", "{}_cpu_" + f"{mid:g}"),
        (f"browser CPU µs per token at {mid:g} tok/s", "{}_browser_cpu_" + f"{mid:g}"),
    ]
    rows = []
    for label, key in metrics:
        values = [f.get(key.format(name), math.nan) for name in v.frameworks]
        mine = f.get(key.format("chatui"), math.nan)
        rows.append([label, *[fmt(x, 1) for x in values],
                     *[ratio(mine, f.get(key.format(p), math.nan)) for p in v.peers]])
    return _table(["Metric (lower is better)", *v.frameworks, *[f"chatui / {p}" for p in v.peers]], rows)


def write(record: BenchRecord, out: Path, log: Callable[[str], None] = print, *, draw_plots: bool = True) -> None:
    """RESULTS.md into `out`; the plots too unless `draw_plots` is False (they need out/results.json)."""
    from bench import plots

    v = _View(record)
    first, f1 = _first_token(v)
    lag, f2 = _lag(v)
    long_tasks, f3 = _long(v)
    wire_size, wire_margins, wire_rate, f4 = _wire(v)
    cpu, f5 = _cpu(v)
    md, f6 = _markdown(v)
    facts = f1 | f2 | f3 | f4 | f5 | f6
    drawn = plots.draw(out, log=log) if draw_plots else []
    env = record.environment
    retrieval = out / "retrieval.md"
    peers_status = _table(["Framework", "status"], [[name, status] for name, status in record.peers.items()]) \
        if record.peers else ""
    retrieval_text = "Not run: bench/retrieval.py writes bench/results/retrieval.md."
    if retrieval.exists():  # its headings go one level down, under this section's
        retrieval_text = "\n".join("##" + line if line.startswith("#") else line
                                   for line in retrieval.read_text().strip().splitlines())
    sections = [
        "# chatui benchmarks: results",
        (f"Run {env.started}, `{env.sizes}` sizes, {env.duration_s / 60:.1f} min, on {env.cpus} cores (load average "
         f"{env.load_before[0]:.2f} before, {env.load_after[0]:.2f} after; the machine is shared, so treat small "
         f"differences as noise). chatui {env.chatui_commit}, Reflex {env.reflex}, Python {env.python}, {env.chromium}."),
        *([("Load average (1 min) as each phase began: "
             + ", ".join(f"{name.split(': ')[-1]} {load:.1f}" for name, load in record.load_by_phase) + ".")]
          if record.load_by_phase else []),
        REPRODUCE,
        *([f"**Scenarios that failed in this run:** {'; '.join(record.errors)}"] if record.errors else []),
        *([f"Notes: {'; '.join(record.notes)}"] if record.notes else []),
        "## Goals", _goals(v, facts),
        "## Peers: chatui / peer ratios", PEERS_INTRO, _peers(v, facts), peers_status,
        "## 1. Time to first token", FIRST_TOKEN_INTRO, first,
        "## 2. Throughput and lag", LAG_INTRO, lag, LONG_TASKS_INTRO, long_tasks,
        "## 3. Wire cost", WIRE_INTRO, wire_size, MARGINS_INTRO, wire_margins, BY_RATE_INTRO, wire_rate,
        "## 4. Server cost and concurrency", SSE_LOAD_INTRO,
        _steps(record.sse_steps, "SSE streams", "client cores") if record.sse_steps else "Not measured in this run.",
        RELAY_LOAD_INTRO,
        _steps(record.relay_steps, "relay streams", "client cores") if record.relay_steps else "Not measured in this run.",
        UI_LOAD_INTRO,
        _steps(record.ui_steps, "pages", "browser cores") if record.ui_steps else "Not measured in this run.",
        CPU_INTRO, cpu,
        "## 5. Markdown rendering", MARKDOWN_INTRO, md,
        "## 6. Retrieval", retrieval_text,
        "## Plots",
        "\n\n".join(f"![{title}]({name})" for name, title in drawn) or "Plots were not drawn (see the log).",
    ]
    (out / "RESULTS.md").write_text("\n\n".join(s for s in sections if s) + "\n")
