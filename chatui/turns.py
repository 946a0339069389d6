"""What the chat page shows of a conversation: `Turn`s, built from stored messages.

A `Turn` is a plain, serialisable view value (Reflex sends it to the browser); it is rebuilt from
`chatui.conversations` messages whenever a conversation is opened or changes, so the database
stays the one source of truth. What must stay true: an answer's HTML is rendered by
`chatui.rendering` (safe by construction) with citation anchors that match its source chips.
"""

from __future__ import annotations

import dataclasses
import functools

from chatui.conversations import ConversationDetail, Message
from chatui.rendering import render_markdown

UI_STATES = {"complete": "done", "streaming": "interrupted"}  # a stored streaming answer is stale


@dataclasses.dataclass
class Source:
    marker: int = 0
    source: str = ""
    title: str = ""
    snippet: str = ""
    anchor: str = ""
    heading: str = ""  # the last part of the title, for the chip


@dataclasses.dataclass
class Turn:
    id: str = ""
    role: str = "user"  # user | assistant
    content: str = ""  # the question, or the answer's Markdown (what Copy copies)
    html: str = ""  # the answer rendered by chatui.rendering
    state: str = "done"  # done | stopped | error | interrupted
    label: str = ""  # provider · model
    sources: list[Source] = dataclasses.field(default_factory=list)
    error: str = ""
    question: str = ""  # for an answer: the question it answers (Retry asks it again)
    tokens: str = ""
    tokens_per_s: str = ""
    ttft: str = ""
    usage: str = ""
    duration: str = ""
    stored: bool = False  # saved in the conversation store (has alternatives, feedback, ...)
    alternatives: list[str] = dataclasses.field(default_factory=list)  # message ids, oldest first
    alternative: int = 0  # the index of this one in `alternatives`
    rating: str = ""  # up | down | ""


def source_for(anchor_prefix: str, marker: int, source: str, title: str, snippet: str) -> Source:
    return Source(marker, source, title, snippet, f"{anchor_prefix}{marker}", title.rsplit(" > ", 1)[-1])


def usage_text(input_tokens: int, output_tokens: int, estimated: bool) -> str:
    mark = "~" if estimated else ""
    text = f"{mark}{input_tokens:,} in · {mark}{output_tokens:,} out"
    return text + (" (estimated)" if estimated else "")


def ms_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def turns_from(detail: ConversationDetail) -> list[Turn]:
    turns: list[Turn] = []
    question = ""
    for message in detail.messages:
        if message.role == "user":
            question = message.content
            turns.append(_user_turn(message))
        else:
            turns.append(_answer_turn(message, question))
    return turns


@functools.lru_cache(maxsize=256)
def answer_html(content: str, sources: int, anchor_prefix: str) -> str:
    """A stored answer's HTML, rendered once. The page's conversation is rebuilt from the store
    after every answer; rendering all its answers again each time was about 3.5 ms per 1,000
    tokens of conversation, on the event loop that streams every other tab's answers."""
    return render_markdown(content, sources=sources, anchor_prefix=anchor_prefix)


def _user_turn(message: Message) -> Turn:
    return Turn(
        id=message.id,
        role="user",
        content=message.content,
        stored=True,
        alternatives=list(message.alternative_ids),
        alternative=message.alternative_index,
    )


def _answer_turn(message: Message, question: str) -> Turn:
    prefix = f"src-{message.id}-"
    sources = [source_for(prefix, c.marker, c.source, c.title, c.snippet) for c in message.citations]
    usage = message.usage
    seconds = (message.duration_ms or 0) / 1000
    output = usage.output_tokens if usage else 0
    return Turn(
        id=message.id,
        role="assistant",
        content=message.content,
        html=answer_html(message.content, len(sources), prefix),
        state=UI_STATES.get(message.state, message.state),
        label=message.provider or "",
        sources=sources,
        error=message.error or "",
        question=question,
        tokens=str(output) if usage else "",
        tokens_per_s=f"{output / seconds:.0f}" if usage and seconds else "",
        ttft=ms_text(message.ttft_ms),
        usage=usage_text(usage.input_tokens, usage.output_tokens, usage.estimated) if usage else "",
        duration=f"{seconds:.1f} s" if message.duration_ms is not None else "",
        stored=True,
        alternatives=list(message.alternative_ids),
        alternative=message.alternative_index,
        rating=message.feedback.rating if message.feedback else "",
    )
