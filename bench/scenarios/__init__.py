"""The measurements. `browser_suite` drives one chat page (chatui's or a peer's) through the answers
scenarios 1-3 need; `sse` reads the same answers from chatui's SSE API (the floor); `concurrency`
(scenario 4) loads one server with many streams; `markdown` (scenario 5) times the renderer.
Each returns frozen records; bench.report turns them into tables and plots."""
