"""The typed events of an answer: the one vocabulary every provider and transport speaks.

`pipeline.answer()` turns a question into a stream of these; the Reflex state, the SSE API and the
CLI only consume them. What must stay true:

- Events are frozen values with a Literal `kind`; `Event` is a discriminated union on it, so a
  consumer can `match event.kind` and a decoder can rebuild the exact value from JSON.
- An answer is `status(retrieval)`, `citation`*, `status(generating)`, `token`*, `usage`?,
  `error`?, then exactly one `done`, last. After an `error` the `done` never says `stop`.
- The wire form (`payload()`) is compact JSON of the fields without `kind`: the SSE `event:` line
  carries the kind, and a token costs a few bytes more than its text.
"""

from __future__ import annotations

import json

from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Phase: TypeAlias = Literal["retrieval", "generating"]
FinishReason: TypeAlias = Literal["stop", "length", "cancelled", "error"]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def payload(self) -> str:
        """Compact JSON of this event's fields, without `kind` (the SSE `event:` line names it)."""
        return self.model_dump_json(exclude={"kind"})


class StatusEvent(_Event):
    """The answer entered a phase: searching the docs, or generating with a model."""

    kind: Literal["status"] = "status"
    phase: Phase
    detail: str = ""
    retrieval_ms: float | None = None  # on `generating`: how long searching the docs took
    model: str | None = None  # on `generating`: the model that answers (`detail` is its label)


class CitationEvent(_Event):
    """One retrieved passage the model was given, numbered as `[marker]` in the prompt."""

    kind: Literal["citation"] = "citation"
    marker: int
    source: str
    title: str
    snippet: str
    score: float
    chunk_id: str


class TokenEvent(_Event):
    """A piece of answer text, forwarded as soon as the provider produced it."""

    kind: Literal["token"] = "token"
    text: str


class UsageEvent(_Event):
    """Token counts for the whole request; `estimated` when the provider did not report them."""

    kind: Literal["usage"] = "usage"
    input_tokens: int
    output_tokens: int
    estimated: bool = False


class ErrorEvent(_Event):
    """Something failed; `message` says how to fix it, `retryable` whether trying again may help."""

    kind: Literal["error"] = "error"
    code: str
    message: str
    retryable: bool = False


class Stats(BaseModel):
    """Timings of one answer, measured from the moment the question was received."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttft_ms: float | None = None
    output_tokens: int = 0
    tokens_per_s: float = 0.0
    duration_ms: float = 0.0


class DoneEvent(_Event):
    """The last event of every answer."""

    kind: Literal["done"] = "done"
    finish_reason: FinishReason
    stats: Stats = Stats()


Event: TypeAlias = Annotated[
    StatusEvent | CitationEvent | TokenEvent | UsageEvent | ErrorEvent | DoneEvent,
    Field(discriminator="kind"),
]

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
KINDS: frozenset[str] = frozenset(
    {"status", "citation", "token", "usage", "error", "done"},
)


def parse_event(kind: str, payload: str) -> Event:
    """Rebuild an event from its kind and its `payload()` JSON (what an SSE client receives).

    Raises `ValueError` for an unknown kind or a payload that does not fit it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {sorted(KINDS)}")
    fields = json.loads(payload)
    if not isinstance(fields, dict):
        raise ValueError(f"a {kind} event's data must be a JSON object, got {payload[:80]!r}")
    return _EVENT_ADAPTER.validate_python({**fields, "kind": kind})
