"""The OpenAI and Anthropic providers, through the real SDKs, against the fake upstream.

Every behaviour is checked for both vendors: the same contract (see chatui/providers/base.py) holds
whatever the wire format.
"""

from __future__ import annotations

import asyncio
import time

import openai
import pytest

from chatui.config import Settings
from chatui.errors import ConfigError, ProviderAuthError, ProviderError, ProviderUnavailableError
from chatui.events import TokenEvent, UsageEvent
from chatui.providers import Finish, make_provider
from chatui.providers.base import ChatMessage, GenerationRequest
from chatui.providers.openai_chat import OpenAIChatProvider
from tests.fakes.upstream import FakeUpstream, Script

VENDORS = ["openai", "anthropic"]
REQUEST = GenerationRequest(
    question="How do I install it?",
    system="You answer from the docs.",
    messages=(ChatMessage("user", "Question: How do I install it?"),),
    max_tokens=256,
)


def vendor_settings(upstream: FakeUpstream, **overrides) -> Settings:
    values = dict(
        openai_api_key="sk-test",
        openai_base_url=upstream.openai_base_url,
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=upstream.anthropic_base_url,
        max_retries=2,
        request_timeout_s=10,
    )
    return Settings(_env_file=None, **(values | overrides))


async def collect(provider, request: GenerationRequest = REQUEST) -> list:
    return [event async for event in provider.stream(request)]


def texts(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TokenEvent))


@pytest.mark.parametrize("vendor", VENDORS)
async def test_provider_streams_tokens_usage_and_finish(upstream: FakeUpstream, vendor: str):
    upstream.script(Script(tokens=["To install, ", "run ", "`make run`", "."], input_tokens=77))
    events = await collect(make_provider(vendor, vendor_settings(upstream)))

    assert [e.text for e in events if isinstance(e, TokenEvent)] == [
        "To install, ", "run ", "`make run`", ".",
    ]
    assert events[-2] == UsageEvent(input_tokens=77, output_tokens=4, estimated=False)
    assert events[-1] == Finish("stop")
    sent = upstream.requests[0].body
    assert sent["stream"] is True
    if vendor == "openai":
        assert sent["max_tokens"] == 256, "a server at another host than OpenAI's is 'compatible'"
        assert sent["stream_options"] == {"include_usage": True}
        assert sent["messages"][0] == {"role": "system", "content": "You answer from the docs."}
    else:
        assert sent["max_tokens"] == 256
        assert sent["system"] == "You answer from the docs."
        assert sent["messages"] == [{"role": "user", "content": "Question: How do I install it?"}]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_provider_reports_length_finish(upstream: FakeUpstream, vendor: str):
    upstream.script(Script(tokens=["cut", " short"], finish_reason="length"))
    events = await collect(make_provider(vendor, vendor_settings(upstream)))
    assert events[-1] == Finish("length")


async def test_openai_provider_without_usage_leaves_the_estimate_to_the_pipeline(
    upstream: FakeUpstream,
):
    upstream.script(Script(include_usage=False))
    events = await collect(make_provider("openai", vendor_settings(upstream)))
    assert not any(isinstance(e, UsageEvent) for e in events)
    assert texts(events) == "Hello, world!"


# How a stream can fail after it started: the script, the text that came first, what the message says.
MID_STREAM_FAILURES = {
    "error event": (Script(tokens=["one ", "two ", "three"], error_after=2), {}, "one two ", "stopped mid-answer"),
    "connection dropped": (Script(tokens=["one ", "two ", "three"], drop_after=2), {}, "one two ",
                           "stopped mid-answer: the connection broke"),
    "silent past the read timeout": (Script(tokens=["one ", "two ", "three"], stall_after=1),
                                     {"request_timeout_s": 0.5}, "one ", "CHATUI_REQUEST_TIMEOUT_S"),
}


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("failure", MID_STREAM_FAILURES)
async def test_provider_failure_mid_stream_keeps_partial_tokens_then_raises_a_retryable_error(
    upstream: FakeUpstream, vendor: str, failure: str
):
    script, overrides, text_before, message = MID_STREAM_FAILURES[failure]
    upstream.script(script)
    seen: list = []
    with pytest.raises(ProviderError) as caught:
        async for event in make_provider(vendor, vendor_settings(upstream, **overrides)).stream(REQUEST):
            seen.append(event)
    assert texts(seen) == text_before
    assert caught.value.code == "provider_stream_error"
    assert caught.value.retryable
    assert message in caught.value.message
    assert len(upstream.requests) == 1, "nothing is retried after the first token"


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("status", [429, 500, 529])
async def test_provider_retries_before_the_first_token_without_duplicates(
    upstream: FakeUpstream, vendor: str, status: int
):
    upstream.script(Script(http_error=status), Script(tokens=["only ", "once"]))
    events = await collect(make_provider(vendor, vendor_settings(upstream)))
    assert texts(events) == "only once"
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("vendor", VENDORS)
async def test_provider_gives_up_after_retries_with_a_retryable_error(
    upstream: FakeUpstream, vendor: str
):
    upstream.script(*[Script(http_error=529)] * 3)
    with pytest.raises(ProviderUnavailableError) as caught:
        await collect(make_provider(vendor, vendor_settings(upstream, max_retries=1)))
    assert caught.value.retryable
    assert "Retry" in caught.value.message
    assert len(upstream.requests) == 2


@pytest.mark.parametrize(("vendor", "variable"), [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
async def test_provider_rejected_key_names_the_variable_to_fix(
    upstream: FakeUpstream, vendor: str, variable: str
):
    upstream.script(Script(http_error=401))
    with pytest.raises(ProviderAuthError) as caught:
        await collect(make_provider(vendor, vendor_settings(upstream)))
    assert variable in caught.value.message
    assert "sk-test" not in caught.value.message and "sk-ant-test" not in caught.value.message


@pytest.mark.parametrize(("vendor", "variable"), [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_provider_missing_key_fails_at_first_use_naming_the_variable(
    upstream: FakeUpstream, vendor: str, variable: str
):
    settings = vendor_settings(upstream, openai_api_key=None, anthropic_api_key=None, openai_base_url=None)
    with pytest.raises(ConfigError) as caught:
        make_provider(vendor, settings)
    assert variable in caught.value.message


async def test_openai_compatible_server_needs_no_key(upstream: FakeUpstream):
    provider = make_provider("openai", vendor_settings(upstream, openai_api_key=None), "llama3.2")
    assert "OpenAI-compatible" in provider.label and "llama3.2" in provider.label
    assert texts(await collect(provider)) == "Hello, world!"
    assert upstream.requests[0].body["max_tokens"] == 256, "compatible servers get max_tokens"


async def test_openai_provider_reads_the_sparse_chunks_of_lean_compatible_servers(upstream: FakeUpstream):
    upstream.script(Script(sparse=True, finish_reason="length"))
    provider = make_provider("openai", vendor_settings(upstream, openai_api_key=None), "llama3.2")
    events = await collect(provider)
    assert texts(events) == "Hello, world!"
    assert UsageEvent(input_tokens=42, output_tokens=4) in events
    assert events[-1] == Finish("length")
    await provider.aclose()


async def test_openai_provider_speaks_current_openai_dialect_to_openai(upstream: FakeUpstream):
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=upstream.openai_base_url)
    provider = OpenAIChatProvider(client, "gpt-5.4-mini")  # as built for api.openai.com
    assert provider.label == "OpenAI · gpt-5.4-mini"
    assert texts(await collect(provider)) == "Hello, world!"
    sent = upstream.requests[0].body
    assert sent["max_completion_tokens"] == 256
    assert "max_tokens" not in sent and "temperature" not in sent
    await provider.aclose()


@pytest.mark.parametrize("vendor", VENDORS)
async def test_provider_reassembles_utf8_split_across_network_chunks(
    upstream: FakeUpstream, vendor: str
):
    tokens = ["héllo", " wörld ", "日本語", " 🎉", " naïve"]
    upstream.script(Script(tokens=tokens, split_utf8=True))
    events = await collect(make_provider(vendor, vendor_settings(upstream)))
    assert [e.text for e in events if isinstance(e, TokenEvent)] == tokens


@pytest.mark.parametrize("vendor", VENDORS)
async def test_provider_cancel_closes_the_upstream_within_100ms(upstream: FakeUpstream, vendor: str):
    upstream.script(Script(tokens=["a", "b", "c", "d"], stall_after=2))
    provider = make_provider(vendor, vendor_settings(upstream))
    got_two = asyncio.Event()

    async def consume() -> None:
        count = 0
        async for event in provider.stream(REQUEST):
            if isinstance(event, TokenEvent):
                count += 1
                if count == 2:
                    got_two.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_two.wait(), 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await upstream.await_disconnect(timeout=2)
    assert record.disconnected_at - cancelled_at < 0.1


@pytest.mark.parametrize("vendor", VENDORS)
async def test_provider_consumer_stopping_early_closes_the_upstream(upstream: FakeUpstream, vendor: str):
    upstream.script(Script(tokens=["x"] * 50, delay_s=0.01))
    stream = make_provider(vendor, vendor_settings(upstream)).stream(REQUEST)
    async for event in stream:
        if isinstance(event, TokenEvent):
            break
    closed_at = time.monotonic()
    await stream.aclose()
    record = await upstream.await_disconnect(timeout=2)
    assert record.disconnected_at - closed_at < 0.1
    assert record.tokens_sent < 50
