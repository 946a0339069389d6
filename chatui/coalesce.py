"""Batch a stream of events into frames: at most one batch per interval, the first one at once.

A browser paints about every 16 ms; sending it more often than that is wasted work on both ends.
`frames()` yields the first event of a quiet period immediately, then collects whatever arrives
until the interval has passed and yields it as one batch. An event the caller marks `at_once`
(the answer's first token) is yielded as soon as it arrives, with the batch before it: the first
token must never wait for the frame that carried the sources just before it. With `idle_s`, a
quiet source yields an empty batch (a tick) every `idle_s`, so that the consumer can do its timed
work (the Markdown debounce) while the model pauses.
What must stay true: nothing is lost or reordered; a batch that is due is flushed even if the
source then goes quiet (a stall never holds back tokens); cancelling the consumer cancels the
source task, which closes the upstream (see `pipeline`); the source's errors reach the consumer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

T = TypeVar("T")
FRAME_S = 1 / 60

_END = object()


def _never(item: object) -> bool:
    return False


async def frames(
    source: AsyncIterator[T],
    interval_s: float = FRAME_S,
    *,
    at_once: Callable[[T], bool] = _never,
    idle_s: float | None = None,
) -> AsyncIterator[list[T]]:
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for item in source:
                queue.put_nowait(item)
        except Exception as exc:  # handed to the consumer, which re-raises it in order
            queue.put_nowait(_Failure(exc))
        finally:
            queue.put_nowait(_END)

    loop = asyncio.get_running_loop()
    producer = asyncio.create_task(pump())
    last_flush = -interval_s
    try:
        while True:
            batch: list[T] = []
            try:
                item = await asyncio.wait_for(queue.get(), idle_s)
            except TimeoutError:
                yield []  # a tick: nothing arrived for idle_s
                continue
            while True:
                if item is _END:
                    if batch:
                        yield batch
                    return
                if isinstance(item, _Failure):
                    if batch:
                        yield batch
                    raise item.error
                batch.append(item)  # type: ignore[arg-type]
                wait = last_flush + interval_s - loop.time()
                if (wait <= 0 and queue.empty()) or at_once(item):  # type: ignore[arg-type]
                    break
                try:
                    item = queue.get_nowait() if not queue.empty() else await asyncio.wait_for(
                        queue.get(), max(wait, 0)
                    )
                except TimeoutError:
                    break
            last_flush = loop.time()
            yield batch
    finally:
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: Exception):
        self.error = error
