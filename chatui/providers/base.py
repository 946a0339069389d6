"""What a provider is: a translator from one vendor's streaming wire format to chatui's events.

A provider receives a fully built `GenerationRequest` (the prompt is the pipeline's job) and yields
`TokenEvent`s as the vendor produces them, at most one `UsageEvent`, and a final `Finish`. What must
stay true for every provider:

- Async only; nothing blocks the event loop.
- The upstream HTTP response is closed in `finally`, so a consumer that stops early (Stop, client
  disconnect, task cancel) closes it at once; `CancelledError` is never swallowed.
- Failures raise a `ProviderError` subclass whose message says how to fix it. The SDK may retry
  before the first token; nothing is retried after it (that would duplicate tokens).
- A missing key raises `ConfigError` naming the variable, when the provider is built, never at import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

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
    temperature: float = 0.2


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


def estimate_tokens(text: str) -> int:
    """A rough token count (about 4 characters a token) for providers that report no usage."""
    return max(1, round(len(text) / 4)) if text else 0
