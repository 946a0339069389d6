"""How the bench's load generators run: on uvloop when it is installed.

Why this exists: scenario 4's clients and its ticker upstream share the machine's two cores with
the server they measure, so every microsecond they spend per token is taken from the server.
uvloop (installed with chatui, where granian also runs on it) costs them less per token than
asyncio's default loop: with it, the bare relay holds a step more. What must stay true: this is
the only change; the code run on the loop is the same on either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

try:
    import uvloop
except ImportError:  # Windows has no uvloop: the default loop
    uvloop = None

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on uvloop when it is installed."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if uvloop else None) as runner:
        return runner.run(main)
