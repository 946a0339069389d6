"""The values that leave the conversation store: typed, frozen, and free of database objects.

Callers (the Reflex state, the API, the CLI) only ever see these; rows never cross the boundary.
Timestamps are timezone-aware UTC. What must stay true: every value here can be rebuilt from the
versioned JSON export (`export.py`), so adding a field means adding it there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from chatui.events import CitationEvent, FinishReason, UsageEvent

Role: TypeAlias = Literal["user", "assistant"]
MessageState: TypeAlias = Literal["streaming", "complete", "stopped", "error", "interrupted"]
FinishedState: TypeAlias = Literal["complete", "stopped", "error", "interrupted"]
Rating: TypeAlias = Literal["up", "down"]

ROLES: tuple[Role, ...] = ("user", "assistant")
MESSAGE_STATES: tuple[MessageState, ...] = (
    "streaming",
    "complete",
    "stopped",
    "error",
    "interrupted",
)
FINISHED_STATES: tuple[FinishedState, ...] = ("complete", "stopped", "error", "interrupted")
RATINGS: tuple[Rating, ...] = ("up", "down")

LOCAL_USER = "local"
"""The user id of a single-person install (the CLI's default; the UI's without a user header)."""

DEFAULT_TITLE = "New conversation"
"""The title shown until the first question (or a rename) gives the conversation one."""

TITLE_CHARS = 80
"""An automatic title is the first question cut to at most this many characters."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one answer; `estimated` when the provider did not report them."""

    input_tokens: int
    output_tokens: int
    estimated: bool = False

    @classmethod
    def from_event(cls, event: UsageEvent) -> Usage:
        return cls(event.input_tokens, event.output_tokens, event.estimated)


@dataclass(frozen=True, slots=True)
class Citation:
    """A passage the model was given, as `[marker]` in the answer (mirrors `CitationEvent`)."""

    marker: int
    source: str
    title: str
    snippet: str
    score: float
    chunk_id: str

    @classmethod
    def from_event(cls, event: CitationEvent) -> Citation:
        return cls(
            event.marker, event.source, event.title, event.snippet, event.score, event.chunk_id
        )


@dataclass(frozen=True, slots=True)
class Feedback:
    """A person's verdict on one answer; the latest one wins."""

    rating: Rating
    comment: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation as the sidebar lists it (most recently `updated_at` first)."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    """One stored message. Answer fields (`provider` ... `error`) are None/empty on questions.

    `alternative_ids` are this message and its siblings (same parent), oldest first: the answers
    a regenerate produced, or the versions of an edited question. `state` is "complete" for a
    question; an answer is "streaming" until it is finished.
    """

    id: str
    conversation_id: str
    parent_id: str | None
    role: Role
    content: str
    created_at: datetime
    updated_at: datetime
    state: MessageState
    provider: str | None = None
    model: str | None = None
    usage: Usage | None = None
    ttft_ms: float | None = None
    duration_ms: float | None = None
    citations: tuple[Citation, ...] = ()
    error: str | None = None
    feedback: Feedback | None = None
    alternative_ids: tuple[str, ...] = ()

    @property
    def alternative_index(self) -> int:
        """This message's position among its alternatives (0-based), for "2 / 3" pickers."""
        return self.alternative_ids.index(self.id) if self.id in self.alternative_ids else 0


@dataclass(frozen=True, slots=True)
class ConversationDetail:
    """A conversation and its active path: the messages the person sees, first to last."""

    conversation: Conversation
    messages: tuple[Message, ...]

    @property
    def leaf_id(self) -> str | None:
        """The last message on the active path (pass it as `expected_leaf_id` when sending)."""
        return self.messages[-1].id if self.messages else None


def finished_state(reason: FinishReason) -> FinishedState:
    """The state to store for an answer that ended with the pipeline's `done.finish_reason`."""
    return {"stop": "complete", "length": "complete", "cancelled": "stopped"}.get(reason, "error")  # type: ignore[return-value]


def title_from_question(question: str) -> str:
    """The automatic title: the question on one line, cut at a word to `TITLE_CHARS`."""
    line = re.sub(r"\s+", " ", question).strip()
    if len(line) <= TITLE_CHARS:
        return line or DEFAULT_TITLE
    cut = line[: TITLE_CHARS - 1]
    if " " in cut[TITLE_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "…"
