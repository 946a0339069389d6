"""chatui's HTTP API: the pipeline as server-sent events, plus a health check.

Mounted on the Reflex app's own port through `rx.App(api_transformer=...)`. Handlers stay thin:
read and validate the request (`chat_request`), resolve the provider, hand `pipeline.answer()` to
`EventStreamResponse`. What must stay true: bad input gets a 4xx JSON body
`{"error": {"code", "message"}}` before any stream starts (never a 500, never a half-open stream);
settings are read at the first request, not at import.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from limits import parse as parse_rate
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatui.api_conversations import conversation_routes
from chatui.api_ingest import ingest_routes
from chatui.chat_request import parse_chat_request
from chatui.config import Settings, get_settings
from chatui.errors import ChatUIError, ConfigError, InputError
from chatui.pipeline import AnswerOptions, KnowledgeBase, answer, open_knowledge_base
from chatui.providers import make_provider
from chatui.sse_response import EventStreamResponse
from chatui.tabs import MAX_TOKEN_CHARS, mark_leaving


def error_response(
    exc: ChatUIError, status: int | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}},
        status_code=status or exc.http_status,
        headers=headers,
    )


class RateLimiter:
    """Per-client limit on starting streams (CHATUI_RATE_LIMIT, e.g. "60/minute"; "0" turns it off)."""

    def __init__(self, rate: str):
        self._rate = None if rate.strip() in ("", "0", "off", "none") else parse_rate(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, client: str) -> int | None:
        """None if `client` may start a stream now (and count it); else seconds to wait."""
        if self._rate is None or self._limiter.hit(self._rate, client):
            return None
        reset_at = self._limiter.get_window_stats(self._rate, client).reset_time
        return max(1, math.ceil(reset_at - time.time()))


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) to read more than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> InputError:
    return InputError(
        f"The request body is larger than {limit:,} bytes. Shorten the message or the history.",
        code="body_too_large",
        http_status=413,
    )


def create_api(
    settings: Settings | None = None, knowledge_base: KnowledgeBase | None = None
) -> Starlette:
    """The API as a Starlette app. Arguments are for tests; by default both come from the config."""
    current_settings: Callable[[], Settings] = (lambda: settings) if settings else get_settings
    limiters: dict[str, RateLimiter] = {}

    def limiter_for(config: Settings) -> RateLimiter:
        if config.rate_limit not in limiters:
            limiters[config.rate_limit] = RateLimiter(config.rate_limit)
        return limiters[config.rate_limit]

    async def chat_stream(request: Request) -> Response:
        try:
            config = current_settings()
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/json":
                raise InputError(
                    "Send the request as JSON with the header `Content-Type: application/json` "
                    f"(got {media_type or 'no content type'!r}).",
                    code="unsupported_media_type",
                    http_status=415,
                )
            client = request.client.host if request.client else "unknown"
            if (wait := limiter_for(config).retry_after(client)) is not None:
                limited = InputError(
                    f"Too many requests from {client}: the limit is {config.rate_limit} "
                    f"(CHATUI_RATE_LIMIT). Retry in {wait} s.",
                    code="rate_limited",
                    http_status=429,
                )
                return error_response(limited, headers={"Retry-After": str(wait)})
            chat = parse_chat_request(await read_body(request, config.max_body_bytes), config)
            provider = make_provider(chat.provider, config, chat.model)
        except ChatUIError as exc:
            return error_response(exc)
        except ClientDisconnect:
            return Response(status_code=499)
        events = answer(
            chat.message,
            chat.history_messages(),
            AnswerOptions(provider=chat.provider, model=chat.model, collection=chat.collection),
            settings=config,
            knowledge_base=knowledge_base,
            provider=provider,
        )
        return EventStreamResponse(events, ping_interval_s=config.sse_ping_s)  # type: ignore[return-value]

    async def health(request: Request) -> Response:
        try:
            config = current_settings()
        except ConfigError as exc:
            return JSONResponse({"status": "misconfigured", "problem": exc.message}, 503)
        body: dict[str, object] = {"status": "ok", "provider": config.provider}
        try:
            provider = make_provider(None, config)
            body.update(model=provider.model, label=provider.label)
        except ChatUIError as exc:
            body.update(status="misconfigured", model=config.model, problem=exc.message)
        try:
            kb = knowledge_base or await open_knowledge_base(config)
            chunks = await asyncio.to_thread(kb.count)
            body["knowledge_base"] = {"collection": kb.collection_name, "chunks": chunks}
        except ChatUIError as exc:
            body.update(status="misconfigured", problem=exc.message)
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    async def tab_leaving(request: Request) -> Response:
        """The page's beacon as it goes away: its body is the tab's client token (see `chatui.tabs`)."""
        try:
            token = (await read_body(request, MAX_TOKEN_CHARS)).decode("utf-8", "replace").strip()
            if not token:
                raise InputError("Send the tab's client token as the body.", code="no_token")
        except ChatUIError as exc:
            return error_response(exc)
        except ClientDisconnect:
            return Response(status_code=499)
        mark_leaving(token)
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/api/chat/stream", chat_stream, methods=["POST"]),
            Route("/api/health", health, methods=["GET"]),
            *ingest_routes(current_settings, error_response),
            *conversation_routes(current_settings, error_response),
            Route("/api/tab/leaving", tab_leaving, methods=["POST"]),
        ]
    )
