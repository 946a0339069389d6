"""The one pipeline: a question in, a stream of typed events out.

`answer()` retrieves passages from the knowledge base, announces them as citations, builds the
prompt, streams the provider's tokens and closes with usage and stats. The Reflex UI, the SSE API and
the CLI all consume it; nothing here knows about any of them. What must stay true:

- Order: status(retrieval), citation*, status(generating), token*, then either usage and
  done(stop|length), or error and done(error). Exactly one `done`, always last.
- Failures become an `error` event with a fix-it message, after whatever tokens already streamed;
  never `done(stop)` after an error, never an exception out of the generator (except cancellation).
- Cancellation (the consumer stops iterating, or its task is cancelled) propagates into the
  provider, whose `finally` closes the upstream response at once. `CancelledError` is not caught.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from chatui.config import Settings, get_settings
from chatui.errors import ChatUIError
from chatui.events import (
    CitationEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    StatusEvent,
    TokenEvent,
    UsageEvent,
)
from chatui.prompt import build_request
from chatui.providers import Finish, Provider, make_provider
from chatui.providers.base import ChatMessage, estimate_tokens
from chatui.retrieval.passage import Passage
from chatui.timing import AnswerClock

log = logging.getLogger(__name__)
SNIPPET_CHARS = 300


class KnowledgeBase(Protocol):
    """What the pipeline needs from a store (`ChromaStore` is the real one)."""

    collection_name: str

    def count(self) -> int: ...

    async def search(self, query: str, k: int = 5, min_score: float = 0.0) -> list[Passage]: ...


@dataclass(frozen=True, slots=True)
class AnswerOptions:
    """Per-request choices; None means "as configured"."""

    provider: str | None = None
    model: str | None = None
    top_k: int | None = None
    collection: str | None = None  # a named knowledge base; default CHATUI_COLLECTION


async def answer(
    question: str,
    history: Sequence[ChatMessage] = (),
    options: AnswerOptions = AnswerOptions(),
    *,
    settings: Settings | None = None,
    knowledge_base: KnowledgeBase | None = None,
    provider: Provider | None = None,
) -> AsyncIterator[Event]:
    """Answer `question` given the conversation so far; see the module docstring for the contract.

    `knowledge_base` and `provider` default to the configured ones; pass them to reuse instances
    (the API resolves the provider first so that a bad choice is a 4xx, not a stream).
    """
    settings = settings or get_settings()
    if options.collection and options.collection != settings.collection:
        settings = settings.model_copy(update={"collection": options.collection})
    clock = AnswerClock()

    try:
        knowledge_base = knowledge_base or await open_knowledge_base(settings)
        chunks = await asyncio.to_thread(knowledge_base.count)
        yield StatusEvent(
            phase="retrieval",
            detail=f"Searching {chunks:,} chunks in {knowledge_base.collection_name}…",
        )
        searched = time.perf_counter()
        passages = await knowledge_base.search(
            question, k=options.top_k or settings.top_k, min_score=settings.min_score
        )
        retrieval_ms = round((time.perf_counter() - searched) * 1000, 1)
    except ChatUIError as exc:
        yield StatusEvent(phase="retrieval", detail="Searching the docs…")
        async for event in _fail(exc, clock):
            yield event
        return

    for marker, passage in enumerate(passages, 1):
        yield CitationEvent(
            marker=marker,
            source=passage.source,
            title=passage.title,
            snippet=_snippet(passage.text),
            score=round(passage.score, 4),
            chunk_id=passage.chunk_id,
        )

    try:
        provider = provider or make_provider(options.provider, settings, options.model)
    except ChatUIError as exc:
        async for event in _fail(exc, clock):
            yield event
        return
    yield StatusEvent(
        phase="generating", detail=provider.label, retrieval_ms=retrieval_ms, model=provider.model
    )

    request = build_request(
        question,
        history,
        passages,
        max_tokens=settings.max_output_tokens,
    )
    usage: UsageEvent | None = None
    finish = Finish("stop")
    try:
        async for event in provider.stream(request):
            if isinstance(event, TokenEvent):
                clock.token()
                yield event
            elif isinstance(event, UsageEvent):
                usage = event
            else:
                finish = event
    except ChatUIError as exc:
        async for event in _fail(exc, clock):
            yield event
        return
    except Exception as exc:  # a bug or an SDK surprise: report it, keep the stream well-formed
        log.exception("provider %s failed unexpectedly", provider.name)
        failure = ChatUIError(
            f"chatui hit an unexpected error while generating ({type(exc).__name__}: {exc}). "
            "The server log has the details; retrying may help."
        )
        async for event in _fail(failure, clock):
            yield event
        return

    if usage is None:
        prompt = request.system + "".join(m.content for m in request.messages)
        usage = UsageEvent(
            input_tokens=estimate_tokens(prompt), output_tokens=clock.tokens, estimated=True
        )
    yield usage
    yield DoneEvent(finish_reason=finish.reason, stats=clock.stats())


async def _fail(exc: ChatUIError, clock: AnswerClock) -> AsyncIterator[Event]:
    yield ErrorEvent(code=exc.code, message=exc.message, retryable=exc.retryable)
    yield DoneEvent(finish_reason="error", stats=clock.stats())


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


_knowledge_bases: dict[tuple[str, str], KnowledgeBase] = {}
_open_lock = threading.Lock()


async def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    """The configured Chroma collection, opened once per process (off the event loop)."""
    server = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else None
    key = (server or str(settings.chroma_dir.resolve()), settings.collection)
    if key in _knowledge_bases:
        return _knowledge_bases[key]
    return await asyncio.to_thread(_open_once, key, settings)


def _open_once(key: tuple[str, str], settings: Settings) -> KnowledgeBase:
    from chatui.retrieval import ChromaStore

    with _open_lock:
        if key not in _knowledge_bases:
            _knowledge_bases[key] = ChromaStore.from_settings(settings)
        return _knowledge_bases[key]
