"""What a provider is: a translator from one vendor's streaming wire format to chatui's events.

A provider receives a fully built `GenerationRequest` (the prompt is the pipeline's job) and yields
`TokenEvent`s as the vendor produces them, at most one `UsageEvent`, and a final `Finish`. What must
stay true for every provider:

- Async only; nothing blocks the event loop.
- The upstream HTTP response is closed however the stream ends (`async with` or `finally`), so a
  consumer that stops early (Stop, client disconnect, task cancel) closes it at once;
  `CancelledError` is never swallowed.
- Failures raise a `ProviderError` subclass whose message says how to fix it. The SDK may retry
  before the first token; nothing is retried after it (that would duplicate tokens). A failure
  after the stream started (an error event, a cut connection, a read timeout) is a retryable
  `provider_stream_error` (`stopped_mid_answer`), never an SDK or httpx2 exception.
- A missing key raises `ConfigError` naming the variable, when the provider is built, never at import.
- A provider owns one SDK client (a connection pool, so requests reuse connections); the registry
  keeps one provider per event loop and configuration, and `aclose()` releases it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx2

from chatui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimitError,
    ProviderUnavailableError,
)
from chatui.events import FinishReason, TokenEvent, UsageEvent
from chatui.retrieval.passage import Passage

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything a provider needs for one answer.

    `messages` is the conversation to send, ending with the user turn that carries the numbered
    passages and the question; `question` and `passages` are also given raw for providers (like the
    offline one) that work on them directly.
    """

    question: str
    system: str
    messages: tuple[ChatMessage, ...]
    passages: tuple[Passage, ...] = ()
    max_tokens: int = 1024


@dataclass(frozen=True, slots=True)
class Finish:
    """The provider's last word: why generation ended."""

    reason: FinishReason = "stop"


ProviderEvent = TokenEvent | UsageEvent | Finish


class Provider(Protocol):
    """A model that streams an answer. `label` is what the UI and API show, honestly."""

    name: str
    model: str
    label: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[ProviderEvent]: ...

    async def aclose(self) -> None:
        """Close the provider's HTTP client (its connection pool)."""


def estimate_tokens(text: str) -> int:
    """A rough token count (about 4 characters a token) for providers that report no usage."""
    return max(1, round(len(text) / 4)) if text else 0


_KEY_LIKE = re.compile(r"\b(sk|key|api)[-_][A-Za-z0-9_\-*.]{3,}", re.IGNORECASE)


def redact(text: str) -> str:
    """Vendors echo (parts of) a rejected key in their messages: never pass one on."""
    return _KEY_LIKE.sub("[redacted key]", text)


def error_detail(body: object, fallback: str) -> str:
    """The human message inside a vendor's error body (`{"error": {"message": ...}}` or flat)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return fallback


def stream_broke(vendor: str, exc: httpx2.RequestError) -> ProviderError:
    """A read that failed after the stream started.

    Both SDKs stream over httpx2 and let its read errors through unmapped once the body is being
    read (a cut connection, a stalled upstream), so providers catch them around their loops.
    """
    if isinstance(exc, httpx2.TimeoutException):
        return stopped_mid_answer(vendor, "nothing came within the read timeout (CHATUI_REQUEST_TIMEOUT_S)")
    return stopped_mid_answer(vendor, f"the connection broke ({type(exc).__name__}: {exc})")


def event_json(vendor: str, data: str) -> dict:
    """The JSON object a stream event carries ({} for any other JSON value): the providers read
    events as plain JSON, and an event that is not JSON ends the stream as a mid-stream error."""
    try:
        value = json.loads(data)
    except ValueError:
        raise stopped_mid_answer(vendor, f"it sent an event that is not JSON ({data[:80]!r})") from None
    return value if isinstance(value, dict) else {}


def stopped_mid_answer(vendor: str, why: str) -> ProviderError:
    """A failure after the stream started: the partial answer stands, and retrying may help."""
    return ProviderError(
        f"{vendor} stopped mid-answer: {redact(why).rstrip('.')}. Retry to get a complete answer.",
        code="provider_stream_error",
        retryable=True,
    )


def error_from_status(vendor: str, status: int | None, detail: str, key_variable: str) -> ProviderError:
    """The `ProviderError` for a vendor's failure, with a message that says what to do about it.

    `status` is the HTTP status (None when no response arrived at all); `detail` is the vendor's
    own message, kept so that people can search for it.
    """
    detail = redact(detail.strip()) or "no details given"
    if status is None:
        return ProviderUnavailableError(
            f"Could not reach {vendor}: {detail}. Check the network and the base URL, then retry."
        )
    if status in (401, 403):
        return ProviderAuthError(
            f"{vendor} rejected the credentials ({status}: {detail}). "
            f"Set {key_variable} to a valid key and restart chatui."
        )
    if status == 429:
        return ProviderRateLimitError(
            f"{vendor} is rate-limiting requests ({detail}). Wait a moment and retry."
        )
    if status == 404:
        return ProviderError(
            f"{vendor} does not know this model or endpoint ({detail}). "
            "Set CHATUI_MODEL to a model your account or server serves."
        )
    if status >= 500:
        return ProviderUnavailableError(
            f"{vendor} is unavailable or overloaded ({status}: {detail}). Retry in a moment."
        )
    return ProviderError(f"{vendor} refused the request ({status}: {detail}).")
