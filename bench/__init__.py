"""chatui's benchmarks: streaming latency, wire cost, server cost and concurrency, Markdown cost,
side by side with the SSE API (the floor) and with peer chat frameworks.

`python -m bench` (or `make bench`) runs every scenario and writes bench/results/RESULTS.md, the
plots and results.json. Layout: `harness` starts what is measured (the app, the fake upstream, the
browser); `scenarios/` measure; `peers/` hold the peer apps and their installer; `report` writes
the results. Runs from the repository root: it imports `tests.fakes.upstream`, the suite's fake LLM.
"""
