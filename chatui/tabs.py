"""Tabs that said they are leaving: how long an answer waits for its tab to come back.

An answer streams to one browser tab. When the tab's websocket goes away, the answer goes on for a
while, because the tab may come back: a reload reconnects within a second or two, and a network
blip (wifi roaming, a laptop waking up) can take longer before socket.io reconnects. An answer
nobody will see should not keep the model generating, though. The page tells the two apart: as
it goes away (closed, reloaded, navigated off) it sends a beacon to `POST /api/tab/leaving` (served
by `chatui.api`) with its client token. A tab that said so gets `LEAVING_GRACE_S` to come back (a
reload does); one that just lost its connection gets `LOST_GRACE_S`.

What must stay true: a beacon only shortens the wait (it never stops an answer by itself, so a
forged one costs nothing but that); marks expire after `MARK_VALID_S`, so a reload's mark does
not make a later network blip count as leaving, and the table cannot grow without bound.
"""

from __future__ import annotations

import time

LEAVING_GRACE_S = 3.0  # a tab that said it is leaving: long enough for a reload to reconnect
LOST_GRACE_S = 30.0  # a tab that lost its connection without a word: long enough for a blip
MARK_VALID_S = 10.0
MAX_TOKEN_CHARS = 200

_leaving: dict[str, float] = {}  # client token -> when it said it is leaving (monotonic)


def mark_leaving(token: str) -> None:
    now = time.monotonic()
    for old in [t for t, at in _leaving.items() if now - at > MARK_VALID_S]:
        del _leaving[old]
    _leaving[token] = now


def grace_s(token: str) -> float:
    """How long an answer waits for this tab's websocket to come back before it stops."""
    said_at = _leaving.get(token)
    if said_at is not None and time.monotonic() - said_at <= MARK_VALID_S:
        return LEAVING_GRACE_S
    return LOST_GRACE_S
