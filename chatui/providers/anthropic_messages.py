"""Anthropic Messages streaming as chatui events.

Text comes from `content_block_delta` events of type `text_delta`; input tokens from
`message_start`, output tokens and the stop reason from `message_delta` (cumulative); `ping` and
block boundaries carry nothing for chatui. An `error` event mid-stream (e.g. overloaded) becomes
a retryable `ProviderError` after the partial text. The stream is closed when the `async with`
ends, however it ends (see `base` for the contract every provider keeps).

As in `openai_chat`, the SDK builds, authenticates and retries the request
(`messages.with_streaming_response`), and the body is read as plain JSON through chatui's SSE
decoder: the SDK's typed stream builds a pydantic model per event, which costs more than the rest
of the server's work on a token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import httpx2

from chatui.config import Settings
from chatui.errors import ConfigError, ProviderError
from chatui.events import TokenEvent, UsageEvent
from chatui.providers.base import (
    Finish,
    GenerationRequest,
    ProviderEvent,
    error_detail,
    error_from_status,
    event_json,
    stopped_mid_answer,
    stream_broke,
)
from chatui.sse import SSEDecoder

DEFAULT_MODEL = "claude-sonnet-5"
KEY_VARIABLE = "ANTHROPIC_API_KEY"


class AnthropicMessagesProvider:
    name = "anthropic"

    def __init__(self, client: anthropic.AsyncAnthropic, model: str):
        self._client = client
        self.model = model
        self.label = f"Anthropic · {model}"

    async def aclose(self) -> None:
        await self._client.close()

    @classmethod
    def from_settings(
        cls, settings: Settings, model: str | None = None
    ) -> AnthropicMessagesProvider:
        if settings.anthropic_api_key is None or not settings.anthropic_api_key.get_secret_value():
            raise ConfigError(
                "The Anthropic provider needs an API key: set ANTHROPIC_API_KEY "
                "(in the environment or .env), or choose another provider with CHATUI_PROVIDER."
            )
        client = anthropic.AsyncAnthropic(
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.anthropic_base_url,
            max_retries=settings.max_retries,
            timeout=settings.request_timeout_s,
        )
        return cls(client, model or settings.model or DEFAULT_MODEL)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[ProviderEvent]:
        input_tokens = output_tokens = 0
        finish = Finish("stop")
        try:
            async with self._client.messages.with_streaming_response.create(
                model=self.model,
                system=request.system,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                max_tokens=request.max_tokens,
                stream=True,
            ) as response:
                events = SSEDecoder()  # decoded here, not by a generator over the body: one hop fewer a token
                async for raw in response.http_response.aiter_raw():
                    for event in events.feed(raw):
                        data = event_json("Anthropic", event.data)
                        kind = data.get("type", event.event)
                        if kind == "content_block_delta":
                            delta = data.get("delta") or {}
                            if delta.get("type") == "text_delta" and (text := delta.get("text")):
                                yield TokenEvent(text=text)
                        elif kind == "message_start":
                            usage = (data.get("message") or {}).get("usage") or {}
                            input_tokens = usage.get("input_tokens") or 0
                            output_tokens = usage.get("output_tokens") or 0
                        elif kind == "message_delta":
                            output_tokens = (data.get("usage") or {}).get("output_tokens") or output_tokens
                            if (data.get("delta") or {}).get("stop_reason") == "max_tokens":
                                finish = Finish("length")
                        elif kind == "error":
                            why = error_detail(data, "an error event without a message")
                            raise stopped_mid_answer("Anthropic", why)
        except anthropic.APIError as exc:
            raise _translate(exc) from exc
        except httpx2.RequestError as exc:
            raise stream_broke("Anthropic", exc) from exc
        yield UsageEvent(input_tokens=input_tokens, output_tokens=output_tokens)
        yield finish


def _translate(exc: anthropic.APIError) -> ProviderError:
    """A failure before the stream started (the SDK has retried what can be retried)."""
    if isinstance(exc, anthropic.APIConnectionError):
        return error_from_status("Anthropic", None, str(exc), KEY_VARIABLE)
    status = exc.status_code if isinstance(exc, anthropic.APIStatusError) else None
    return error_from_status("Anthropic", status or 500, error_detail(exc.body, exc.message), KEY_VARIABLE)
