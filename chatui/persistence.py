"""Where the app keeps conversations: one `ConversationStore` per event loop, and the user.

The store's engine and connections belong to the loop that made them, so the app (one loop per
worker) gets one store and tests (one loop per test) get theirs. What must stay true: the user id
comes from the reverse proxy's header when CHATUI_USER_HEADER is set (and nothing is shown
without it), else from the browser's own identity; never from anything else a client sends.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from chatui.config import Settings, get_settings
from chatui.conversations import ConversationStore
from chatui.errors import InputError

log = logging.getLogger(__name__)
_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConversationStore] = (
    weakref.WeakKeyDictionary()
)


def conversation_store(settings: Settings | None = None) -> ConversationStore:
    loop = asyncio.get_running_loop()
    if loop not in _stores:
        _stores[loop] = ConversationStore.from_settings(settings or get_settings())
    return _stores[loop]


async def mark_interrupted_answers() -> None:
    """At server start: answers that were streaming when the server stopped become interrupted."""
    try:
        count = await conversation_store().mark_interrupted_streams()
    except Exception:  # the app must start even if the database is not reachable yet
        log.exception("could not mark interrupted answers")
        return
    if count:
        log.warning("marked %d answer(s) interrupted by the last shutdown", count)


def user_from_header(headers: dict[str, str], settings: Settings) -> str | None:
    """The proxy-authenticated user, when CHATUI_USER_HEADER is set; else None (browser identity)."""
    if not settings.user_header:
        return None
    user = headers.get(settings.user_header.lower(), "").strip()
    if not user:
        raise InputError(
            f"This chatui expects the signed-in user in the {settings.user_header} header "
            "(CHATUI_USER_HEADER), and the request had none. Sign in through the proxy.",
            code="no_user",
            http_status=401,
        )
    return user
