"""The provider registry: a name (CHATUI_PROVIDER, or `provider` in an API request) to a factory.

Vendor SDKs are imported only when their provider is chosen. `make_provider` is the one place that
turns a name into a ready provider, so an unknown name or a missing key fails the same way for the
UI, the API and the CLI.
"""

from __future__ import annotations

import asyncio
import importlib
import weakref

from chatui.config import Settings
from chatui.errors import InputError
from chatui.providers.base import (
    ChatMessage,
    Finish,
    GenerationRequest,
    Provider,
    ProviderEvent,
)

# name -> (module, class): the module is imported on first use.
PROVIDERS: dict[str, tuple[str, str]] = {
    "offline": ("chatui.providers.offline", "OfflineProvider"),
    "openai": ("chatui.providers.openai_chat", "OpenAIChatProvider"),
    "anthropic": ("chatui.providers.anthropic_messages", "AnthropicMessagesProvider"),
}


# Providers built on each running event loop: an SDK client's connections belong to one loop.
_built: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, Provider]] = (
    weakref.WeakKeyDictionary()
)


def make_provider(name: str | None, settings: Settings, model: str | None = None) -> Provider:
    """The provider called `name` (default: CHATUI_PROVIDER), configured from `settings`.

    Reuses the provider (and its connection pool) already built for the same choice on this event
    loop. Raises `InputError` for an unknown name and `ConfigError` when the provider lacks its key.
    """
    chosen = name or settings.provider
    if chosen not in PROVIDERS:
        raise InputError(
            f"Unknown provider {chosen!r}: choose one of {', '.join(sorted(PROVIDERS))}.",
            code="unknown_provider",
        )
    try:
        built = _built.setdefault(asyncio.get_running_loop(), {})
    except RuntimeError:  # no loop (e.g. a synchronous check): build one, cache nothing
        built = {}
    key = (chosen, model, settings)
    if key not in built:
        module_name, class_name = PROVIDERS[chosen]
        factory = getattr(importlib.import_module(module_name), class_name)
        built[key] = factory.from_settings(settings, model)
    return built[key]


async def close_providers() -> None:
    """Close every provider built on the running loop (at shutdown, and between tests)."""
    for provider in _built.pop(asyncio.get_running_loop(), {}).values():
        await provider.aclose()


__all__ = [
    "PROVIDERS",
    "ChatMessage",
    "Finish",
    "GenerationRequest",
    "Provider",
    "ProviderEvent",
    "close_providers",
    "make_provider",
]
