"""Frame batching: first item at once, one batch per interval after, nothing lost, stalls flushed."""

from __future__ import annotations

import asyncio

import pytest

from chatui.coalesce import frames


async def timed(items_and_gaps: list[tuple[str, float]]):
    for item, gap in items_and_gaps:
        await asyncio.sleep(gap)
        yield item


async def collect(source, interval: float) -> list[tuple[list[str], float]]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    return [(batch, loop.time() - start) async for batch in frames(source, interval)]


async def test_frames_yield_the_first_item_immediately_and_batch_a_burst():
    burst = [("t0", 0.0)] + [(f"t{i}", 0.001) for i in range(1, 10)]
    batches = await collect(timed(burst), interval=0.05)
    assert batches[0][0] == ["t0"] and batches[0][1] < 0.02
    assert [item for batch, _ in batches for item in batch] == [f"t{i}" for i in range(10)]
    assert len(batches) <= 3, "a 10 ms burst fits in one or two 50 ms frames after the first"


async def test_frames_flush_a_due_batch_when_the_source_stalls():
    source = timed([("a", 0), ("b", 0.001), ("c", 0.001), ("late", 0.3)])
    batches = await collect(source, interval=0.05)
    assert [b for b, _ in batches][:2] == [["a"], ["b", "c"]]
    assert batches[1][1] < 0.15, "b and c must not wait for the stalled source"
    assert batches[-1][0] == ["late"]


async def test_frames_space_batches_at_least_one_interval_apart():
    source = timed([(str(i), 0.002) for i in range(60)])
    batches = await collect(source, interval=0.03)
    times = [t for _, t in batches][:-1]  # the source's end flushes at once: nothing left to wait for
    assert len(times) >= 3
    assert all(b - a >= 0.029 for a, b in zip(times, times[1:]))
    assert sum(len(b) for b, _ in batches) == 60


async def test_frames_yield_an_at_once_item_without_waiting_for_the_frame():
    """Sources, then the first token a few ms later: the token goes out at once, not a frame later."""
    source = timed([("status", 0), ("sources", 0.002), ("token-1", 0.01), ("token-2", 0.001), ("token-3", 0.001),
                    ("late", 0.4)])
    loop = asyncio.get_running_loop()
    start = loop.time()
    batches = [(batch, loop.time() - start)
               async for batch in frames(source, 0.2, at_once=lambda item: item == "token-1")]
    assert [b for b, _ in batches][:2] == [["status"], ["sources", "token-1"]]
    assert batches[1][1] < 0.1, "the first token does not wait out the 200 ms frame"
    assert batches[2][0] == ["token-2", "token-3"] and batches[2][1] >= 0.19, "later ones are batched as before"


async def test_frames_pass_on_the_source_error_after_earlier_items():
    async def failing():
        yield "ok"
        raise RuntimeError("upstream broke")

    seen = []
    with pytest.raises(RuntimeError, match="upstream broke"):
        async for batch in frames(failing(), 0.01):
            seen += batch
    assert seen == ["ok"]


async def test_frames_cancel_the_source_when_the_consumer_stops():
    closed = asyncio.Event()

    async def endless():
        try:
            while True:
                yield "x"
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    stream = frames(endless(), 0.01)
    async for _ in stream:
        break
    await stream.aclose()
    await asyncio.wait_for(closed.wait(), 1)


async def test_frames_tick_with_an_empty_batch_while_the_source_is_quiet():
    source = timed([("a", 0), ("b", 0.25)])
    loop = asyncio.get_running_loop()
    start = loop.time()
    batches = [(batch, loop.time() - start) async for batch in frames(source, 0.01, idle_s=0.1)]
    assert [b for b, _ in batches] == [["a"], [], [], ["b"]], "two ticks during the 250 ms pause"
    assert 0.09 <= batches[1][1] < 0.18
