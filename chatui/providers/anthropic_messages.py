"""Anthropic Messages streaming as chatui events.

Text comes from `content_block_delta` events of type `text_delta`; input tokens from
`message_start`, output tokens and the stop reason from `message_delta` (cumulative); `ping` and
block boundaries carry nothing for chatui. An `error` event mid-stream (e.g. overloaded) is raised
by the SDK and becomes a retryable `ProviderError` after the partial text. The stream is closed
in `finally` (see `base` for the contract every provider keeps).
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
    stopped_mid_answer,
    stream_broke,
)

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
        try:
            stream = await self._client.messages.create(
                model=self.model,
                system=request.system,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                max_tokens=request.max_tokens,
                stream=True,
            )
        except anthropic.APIError as exc:
            raise _translate(exc) from exc

        input_tokens = output_tokens = 0
        finish = Finish("stop")
        try:
            async for event in stream:
                if event.type == "content_block_delta":
                    if event.delta.type == "text_delta" and event.delta.text:
                        yield TokenEvent(text=event.delta.text)
                elif event.type == "message_start":
                    input_tokens = event.message.usage.input_tokens
                    output_tokens = event.message.usage.output_tokens
                elif event.type == "message_delta":
                    output_tokens = event.usage.output_tokens
                    if event.delta.stop_reason == "max_tokens":
                        finish = Finish("length")
        except anthropic.APIError as exc:
            raise _translate(exc, mid_stream=True) from exc
        except httpx2.RequestError as exc:
            raise stream_broke("Anthropic", exc) from exc
        finally:
            await stream.close()
        yield UsageEvent(input_tokens=input_tokens, output_tokens=output_tokens)
        yield finish


def _translate(exc: anthropic.APIError, *, mid_stream: bool = False) -> ProviderError:
    if mid_stream:  # an error event inside the stream
        return stopped_mid_answer("Anthropic", error_detail(exc.body, exc.message))
    if isinstance(exc, anthropic.APIConnectionError):
        return error_from_status("Anthropic", None, str(exc), KEY_VARIABLE)
    status = exc.status_code if isinstance(exc, anthropic.APIStatusError) else None
    return error_from_status("Anthropic", status or 500, error_detail(exc.body, exc.message), KEY_VARIABLE)
