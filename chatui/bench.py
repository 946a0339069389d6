"""`chatui bench`: the benchmark suite of bench/ (streaming latency, wire cost, concurrency, peers).

The suite is not part of the installed package: it drives the app from a source checkout (it copies
the checkout's app into bench/.work and imports the test suite's fake upstream), so this entry
point only finds the checkout this package was installed from and hands over to `bench.run`.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def run_bench(*, quick: bool = False, report_only: bool = False) -> int:
    if not (CHECKOUT / "bench" / "run.py").exists() or not (CHECKOUT / "tests" / "fakes").is_dir():
        print(
            "chatui: `chatui bench` runs from a source checkout (bench/ and tests/ are not installed). "
            "Install chatui with `pip install -e .` from the repository, or run `make bench` there.",
            file=sys.stderr,
        )
        return 1
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    from bench.run import main

    return main([*(["--quick"] if quick else []), *(["--report-only"] if report_only else [])])
