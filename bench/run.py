"""`python -m bench`: every scenario, one after another, then bench/results/ (RESULTS.md, plots, results.json).

Order, so that nothing measured shares the two cores with anything else measured:
1. the fake upstream (own process) and the chatui app (`reflex run --env prod`, copied to bench/.work)
   -> the browser suite (scenarios 1-3), the SSE floor, the UI half of scenario 4;
2. each peer app in turn -> the same browser suite (scenario 7);
3. the ticker upstream and a second start of the app pointed at it -> SSE concurrency (scenario 4),
   then the bare relay (`bench/relay.py`) on the same ticker -> the same steps: the stack's floor;
4. the Markdown renderer in this process (scenario 5); scenario 6's table is read, not run.
A scenario that fails is recorded with its error and the run goes on; the exit status is 1 then.
Logs of every server: bench/.work/logs/.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import sizes as sizes_module
from bench.browser import ChatTarget
from bench.harness import REPO, WORK, ServerProcess, free_port, start_app, start_relay
from bench.record import BenchRecord, Environment

RESULTS = REPO / "bench" / "results"
LOGS = WORK / "logs"


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _phase(record: BenchRecord, name: str) -> None:
    """Log the start of a phase and the machine's load as it begins (the machine may be shared)."""
    load = _load()[0]
    record.load_by_phase.append((name, load))
    _log(f"{name} (load average {load:.2f})")


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _environment(sizes: sizes_module.Sizes, started: float, clock_start: float,
                 load_before: tuple[float, float, float]) -> Environment:
    from importlib.metadata import version

    from bench.browser import CHROMIUM

    commit = _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = _version(["git", "-C", str(REPO), "status", "--porcelain", "--", "chatui", "assets", "rxconfig.py"])
    return Environment(
        started=datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        sizes=sizes.name, cpus=os.cpu_count() or 0, load_before=load_before, load_after=_load(),
        python=platform.python_version(), reflex=version("reflex"),
        chromium=_version([CHROMIUM, "--version"]), chatui_commit=commit + (" + uncommitted changes" if dirty else ""),
        duration_s=time.monotonic() - clock_start,
    )


def _failed(record: BenchRecord, name: str, exc: Exception) -> None:
    traceback.print_exception(exc)
    record.errors.append(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0][:500])
    _log(f"{name} FAILED: {exc}")


def _attempt(record: BenchRecord, name: str, step: Callable[[], None]) -> None:
    try:
        step()
    except Exception as exc:  # noqa: BLE001 - one scenario's failure must not lose the others
        _failed(record, name, exc)


class _Served:
    """A server under test, restarted once if it is found dead after a step, and the step run again.

    On a shared machine another process's broad kill has stopped the app mid-run; one restart keeps
    such a run useful, and RESULTS.md says it happened.
    """

    def __init__(self, record: BenchRecord, name: str, start: Callable[[], tuple[ServerProcess, ChatTarget]]) -> None:
        self.record, self.name, self._start = record, name, start
        self.server, self.target = start()

    def attempt(self, what: str, step: Callable[[ServerProcess, ChatTarget], None]) -> None:
        def checked() -> None:
            step(self.server, self.target)
            if not self.server.alive():
                raise RuntimeError(f"{self.name} stopped during the step: {self.server.log_tail(300)!r}")

        try:
            checked()
        except Exception as exc:  # noqa: BLE001 - retried once below if the server died, else recorded
            if self.server.alive():
                _failed(self.record, what, exc)
                return
            self.record.notes.append(f"{self.name} stopped during {what} (not by the bench); restarted and ran it again")
            _log(f"{self.name} died during {what}; restarting it and running the step again")
            self.server.stop()
            self.server, self.target = self._start()
            _attempt(self.record, what, checked)

    def stop(self) -> None:
        self.server.stop()


def run(sizes: sizes_module.Sizes) -> BenchRecord:
    from bench.browser import Browser, ChatTarget
    from bench.peers import PEERS, PeerUnavailable
    from bench.peers import start as start_peer
    from bench.scenarios import concurrency, markdown
    from bench.scenarios.browser_suite import (
        FIRST_TOKEN_RATE,
        FIRST_TOKEN_TOKENS,
        run_suite,
    )
    from bench.scenarios.sse import sse_answer
    from bench.upstream import UpstreamProcess

    started, clock_start, load_before = time.time(), time.monotonic(), _load()
    record = BenchRecord(environment=_environment(sizes, started, clock_start, load_before))
    LOGS.mkdir(parents=True, exist_ok=True)
    _log(f"sizes: {sizes.name}; load average {load_before[0]:.2f} on {os.cpu_count()} cores")

    with UpstreamProcess() as upstream, Browser() as browser:

        def start_chatui() -> tuple[ServerProcess, ChatTarget]:
            _log("starting chatui (reflex run --env prod)")
            server, url = start_app(upstream.openai_base_url, LOGS)
            return server, ChatTarget("chatui", url, "[data-testid=composer]",
                                      "!document.querySelector('[data-state=streaming]')")

        app = _Served(record, "the chatui app", start_chatui)
        try:
            _phase(record, "scenarios 1-3: chatui in the browser")
            app.attempt("chatui browser suite", lambda server, target: record.browser_runs.extend(
                run_suite(browser, target, upstream, server.session_id, sizes, _log)))

            def floor(server: ServerProcess, target: ChatTarget) -> None:
                _phase(record, "scenarios 1-3: the SSE API floor")
                runs = [sse_answer(target.url, upstream, purpose="first-token", tokens=FIRST_TOKEN_TOKENS,
                                   rate=FIRST_TOKEN_RATE, marker_every=FIRST_TOKEN_TOKENS)
                        for _ in range(sizes.first_token_answers)]
                runs += [sse_answer(target.url, upstream, purpose="lag", tokens=sizes.lag_tokens, rate=rate)
                         for rate in sizes.lag_rates]
                runs += [sse_answer(target.url, upstream, purpose="wire", tokens=tokens, rate=0)
                         for tokens in sorted({*sizes.wire_sizes, sizes.lag_tokens, sizes.long_tokens})]
                record.sse_runs.extend(runs)

            app.attempt("SSE floor", floor)
            _phase(record, "scenario 4: concurrent browser pages (UI path)")
            app.attempt("UI concurrency", lambda server, target: record.ui_steps.extend(concurrency.ui_steps(
                browser, target, upstream, sizes.ui_steps, sizes.ui_tokens, server_session=server.session_id, log=_log)))
        finally:
            app.stop()

        for peer in PEERS if sizes.peers else ():
            _phase(record, f"scenario 7: {peer.name}")
            try:
                served = _Served(record, peer.name, lambda peer=peer: start_peer(peer, upstream.openai_base_url, LOGS))
            except PeerUnavailable as exc:
                record.peers[peer.name] = f"unavailable: {exc}"
                _log(f"{peer.name} unavailable: {exc}")
                continue
            record.peers[peer.name] = peer.requirement
            try:
                served.attempt(f"{peer.name} browser suite", lambda server, target: record.browser_runs.extend(
                    run_suite(browser, target, upstream, server.session_id, sizes, _log)))
            finally:
                served.stop()

    def sse_load() -> None:
        _phase(record, "scenario 4: concurrent SSE streams")
        port = free_port()
        ticker = ServerProcess(
            "ticker upstream", [sys.executable, "-m", "bench.ticker", "--port", str(port), "--rate",
                                str(concurrency.RATE), "--tokens", str(sizes.sse_tokens)],
            cwd=REPO, env=dict(os.environ), ready=[f"http://127.0.0.1:{port}/health"], log=LOGS / "ticker.log")

        def start_on_ticker() -> tuple[ServerProcess, ChatTarget]:
            server, url = start_app(f"http://127.0.0.1:{port}/v1", LOGS)
            return server, ChatTarget("chatui", url, "", "")

        def start_relay_on_ticker() -> tuple[ServerProcess, ChatTarget]:
            server, url = start_relay(f"http://127.0.0.1:{port}/v1", LOGS)
            return server, ChatTarget("relay", url, "", "")

        with ticker:
            for name, start, steps in (("the chatui app (on the ticker)", start_on_ticker, record.sse_steps),
                                       ("the bare SSE relay (on the ticker)", start_relay_on_ticker, record.relay_steps)):
                _log(f"  {name}:")
                served = _Served(record, name, start)
                try:
                    served.attempt(f"SSE concurrency on {name}", lambda server, target, steps=steps: steps.extend(
                        concurrency.sse_steps(target.url, sizes.sse_steps, sizes.sse_tokens,
                                              server_session=server.session_id,
                                              upstream_session=ticker.session_id, log=_log)))
                finally:
                    served.stop()

    _attempt(record, "SSE concurrency", sse_load)
    _phase(record, "scenario 5: Markdown")
    _attempt(record, "Markdown", lambda: record.markdown.extend(markdown.run(sizes.markdown_tokens, sizes.markdown_runs)))
    record.environment = _environment(sizes, started, clock_start, load_before)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run chatui's benchmarks.")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (also: BENCH_QUICK=1)")
    parser.add_argument("--report-only", action="store_true", help="redraw RESULTS.md and plots from results.json")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory (default: bench/results)")
    args = parser.parse_args(argv)
    from bench import report

    args.out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        record = BenchRecord.load(args.out / "results.json")
    else:
        sizes = sizes_module.QUICK if args.quick else sizes_module.from_env()
        record = run(sizes)
        record.save(args.out / "results.json")
    report.write(record, args.out, log=_log)
    _log(f"wrote {args.out / 'RESULTS.md'}")
    return 1 if record.errors else 0
