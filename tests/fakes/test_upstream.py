"""The fake upstream, proven against the real `openai` and `anthropic` SDKs (and raw bytes where the wire rules).

If these pass, a provider test that fails is about the provider, not the fake.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import anthropic
import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstream, Script

MESSAGES = [{"role": "user", "content": "Say hello."}]
UNICODE_TOKENS = ["héllo", " wörld ", "日本語", " 🎉"]


@pytest.fixture
async def openai_client(upstream: FakeUpstream) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=upstream.openai_base_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
async def anthropic_client(upstream: FakeUpstream) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=upstream.anthropic_base_url, api_key="sk-ant-test", max_retries=0
    ) as client:
        yield client


async def openai_stream(client: openai.AsyncOpenAI, **kwargs):
    return await client.chat.completions.create(
        model="gpt-test", messages=MESSAGES, stream=True, stream_options={"include_usage": True}, **kwargs
    )


async def anthropic_stream(client: anthropic.AsyncAnthropic):
    return await client.messages.create(model="claude-test", max_tokens=64, messages=MESSAGES, stream=True)


async def openai_text(client: openai.AsyncOpenAI) -> str:
    return "".join([c.choices[0].delta.content or "" async for c in await openai_stream(client) if c.choices])


async def anthropic_text(client: anthropic.AsyncAnthropic) -> str:
    events = await anthropic_stream(client)
    return "".join([e.delta.text async for e in events if e.type == "content_block_delta"])


# -- happy paths -------------------------------------------------------------------------------------------


async def test_upstream_openai_stream_joins_to_scripted_tokens_with_usage(upstream, openai_client):
    chunks = [chunk async for chunk in await openai_stream(openai_client)]

    content = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert content == ["Hello", ",", " world", "!"]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}) == {
        "prompt_tokens": 42, "completion_tokens": 4, "total_tokens": 46}
    [rec] = upstream.requests
    assert (rec.vendor, rec.path, rec.body["model"]) == ("openai", "/v1/chat/completions", "gpt-test")
    assert rec.tokens_sent == 4
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert rec.completed_at is not None and rec.disconnected_at is None


async def test_upstream_openai_usage_only_when_requested_and_scripted(upstream, openai_client):
    upstream.script(Script(include_usage=False))
    scripted_off = [c async for c in await openai_stream(openai_client)]
    not_asked = [c async for c in await openai_client.chat.completions.create(
        model="gpt-test", messages=MESSAGES, stream=True)]

    assert all(c.usage is None and c.choices for c in scripted_off + not_asked)


async def test_upstream_anthropic_raw_events_join_to_scripted_tokens(upstream, anthropic_client):
    events = [event async for event in await anthropic_stream(anthropic_client)]

    assert [e.type for e in events] == [  # the SDK drops the ping
        "message_start", "content_block_start", *["content_block_delta"] * 4,
        "content_block_stop", "message_delta", "message_stop"]
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == "Hello, world!"
    assert events[0].message.usage.input_tokens == 42
    assert events[-2].delta.stop_reason == "end_turn" and events[-2].usage.output_tokens == 4
    [rec] = upstream.requests
    assert (rec.vendor, rec.path, rec.body["model"]) == ("anthropic", "/v1/messages", "claude-test")
    # anthropic 2.x sends the key as `authorization: Bearer`, older SDKs as `x-api-key`.
    assert "sk-ant-test" in rec.headers.get("x-api-key", rec.headers.get("authorization", ""))
    assert "anthropic-version" in rec.headers


async def test_upstream_anthropic_stream_helper_final_text_equals_joined_tokens(upstream, anthropic_client):
    upstream.script(Script(tokens=["One", " two", " three."], finish_reason="length"))
    async with anthropic_client.messages.stream(model="claude-test", max_tokens=64, messages=MESSAGES) as stream:
        streamed = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
        final_text = await stream.get_final_text()

    assert "".join(streamed) == final_text == "One two three."
    assert (final.stop_reason, final.usage.input_tokens, final.usage.output_tokens) == ("max_tokens", 42, 3)


async def test_upstream_openai_finish_reason_length(upstream, openai_client):
    upstream.script(Script(finish_reason="length"))
    chunks = [c async for c in await openai_stream(openai_client)]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"


async def test_upstream_non_stream_requests_get_one_json_completion(upstream, openai_client, anthropic_client):
    upstream.script(Script(tokens=["a", "b"]), Script(tokens=["c", "d"], finish_reason="length"))
    completion = await openai_client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    message = await anthropic_client.messages.create(model="claude-test", max_tokens=64, messages=MESSAGES)

    assert (completion.choices[0].message.content, completion.usage.completion_tokens) == ("ab", 2)
    assert (message.content[0].text, message.stop_reason) == ("cd", "max_tokens")


async def test_upstream_delays_are_honoured_and_each_token_leaves_at_once(upstream, openai_client):
    upstream.script(Script(tokens=["a", "b", "c"], first_token_delay_s=0.1, delay_s=0.1))
    started = time.monotonic()
    arrivals = [time.monotonic() - started async for c in await openai_stream(openai_client)
                if c.choices and c.choices[0].delta.content]

    # A token held back until the next one is ready would arrive at 0.3 s, and the last two close together.
    assert 0.195 <= arrivals[0] < 0.29
    assert all(later - earlier >= 0.095 for earlier, later in zip(arrivals, arrivals[1:]))


async def test_upstream_health_answers_ok(upstream):
    async with httpx.AsyncClient() as client:
        response = await client.get(upstream.base_url + "/health")
    assert response.status_code == 200
    assert upstream.requests == []


# -- wire bytes --------------------------------------------------------------------------------------------


async def test_upstream_anthropic_wire_bytes_are_exact(upstream):
    upstream.script(Script(tokens=["Hi"]))
    async with httpx.AsyncClient() as client:
        response = await client.post(upstream.base_url + "/v1/messages", json={"model": "m", "stream": True})

    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.text == (
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_fake","type":"message",'
        '"role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
        '"usage":{"input_tokens":42,"output_tokens":1}}}\n\n'
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        '"content_block":{"type":"text","text":""}}\n\n'
        'event: ping\ndata: {"type":"ping"}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        '"delta":{"type":"text_delta","text":"Hi"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
        '"stop_sequence":null},"usage":{"output_tokens":1}}\n\n'
        'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )


async def test_upstream_openai_wire_bytes_are_exact(upstream):
    upstream.script(Script(tokens=["Hi"]))
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True}}
    async with httpx.AsyncClient() as client:
        response = await client.post(upstream.openai_base_url + "/chat/completions", json=body)

    assert response.headers["content-type"] == "text/event-stream"
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    created = json.loads(events[0].removeprefix("data: "))["created"]
    head = f'data: {{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":{created},"model":"m",' \
           '"system_fingerprint":null,"choices":'
    assert events[:-2] == [
        head + '[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],'
               '"usage":null}',
        head + '[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}',
        head + '[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}',
        head + '[],"usage":{"prompt_tokens":42,"completion_tokens":1,"total_tokens":43}}',
    ]


# -- HTTP errors and retries -------------------------------------------------------------------------------


async def test_upstream_openai_sdk_retries_after_429(upstream, openai_client):
    upstream.script(Script(http_error=429))

    text = await openai_text(openai_client.with_options(max_retries=2))

    assert text == "Hello, world!"
    first, second = upstream.requests
    assert (first.script.http_error, second.script.http_error) == (429, None)
    assert second.headers["x-stainless-retry-count"] == "1"
    assert second.started_at - first.started_at < 0.2  # retry-after-ms: 10 was honoured, not the 0.5 s backoff


@pytest.mark.parametrize("status", [429, 529])
async def test_upstream_anthropic_sdk_retries_after_http_error(upstream, anthropic_client, status):
    upstream.script(Script(http_error=status))

    text = await anthropic_text(anthropic_client.with_options(max_retries=2))

    assert text == "Hello, world!"
    first, second = upstream.requests
    assert (first.script.http_error, second.script.http_error) == (status, None)
    assert second.started_at - first.started_at < 0.2


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [(401, openai.AuthenticationError, "invalid_request_error"), (429, openai.RateLimitError, "requests"),
     (500, openai.InternalServerError, "server_error")],
)
async def test_upstream_openai_http_error_raises_vendor_error(
    upstream, openai_client, status, error_class, error_type
):
    upstream.script(Script(http_error=status))
    with pytest.raises(error_class) as caught:
        await openai_stream(openai_client)
    assert caught.value.status_code == status
    assert caught.value.type == error_type
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    ("api_key", "echoed"),
    [("sk-test", "sk-test"), ("sk-proj-abcdefghijklmnop1234", "sk-proj-****************1234")],
)
async def test_upstream_openai_401_echoes_the_key_masked_like_openai(upstream, api_key, echoed):
    upstream.script(Script(http_error=401))
    async with openai.AsyncOpenAI(base_url=upstream.openai_base_url, api_key=api_key, max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await openai_stream(client)
    assert f"Incorrect API key provided: {echoed}. You can find your API key at" in caught.value.message


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [(401, anthropic.AuthenticationError, "authentication_error"),
     (429, anthropic.RateLimitError, "rate_limit_error"),
     (500, anthropic.InternalServerError, "api_error"),
     (529, anthropic.OverloadedError, "overloaded_error")],
)
async def test_upstream_anthropic_http_error_raises_vendor_error(
    upstream, anthropic_client, status, error_class, error_type
):
    upstream.script(Script(http_error=status))
    with pytest.raises(error_class) as caught:
        await anthropic_stream(anthropic_client)
    assert caught.value.status_code == status
    assert caught.value.body["error"]["type"] == error_type
    assert len(upstream.requests) == 1


# -- split UTF-8 -------------------------------------------------------------------------------------------


async def test_upstream_openai_split_utf8_reassembles_exactly(upstream, openai_client):
    upstream.script(Script(tokens=UNICODE_TOKENS, split_utf8=True))
    assert await openai_text(openai_client) == "".join(UNICODE_TOKENS)


async def test_upstream_anthropic_split_utf8_reassembles_exactly(upstream, anthropic_client):
    upstream.script(Script(tokens=UNICODE_TOKENS, split_utf8=True))
    assert await anthropic_text(anthropic_client) == "".join(UNICODE_TOKENS)


async def test_upstream_split_utf8_cuts_inside_a_character_on_the_wire(upstream):
    upstream.script(Script(tokens=["日本語"], split_utf8=True))
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", upstream.base_url + "/v1/messages", json={"stream": True}) as response:
            reads = [chunk async for chunk in response.aiter_raw()]

    # The delta event's first half ends inside 日 (E6 97 A5): a decoder that decodes per read breaks here.
    assert any(chunk.endswith(b'"text":"\xe6') for chunk in reads)
    assert b"".join(reads).decode().count("日本語") == 1


# -- mid-stream errors -------------------------------------------------------------------------------------


async def test_upstream_openai_error_after_raises_mid_stream(upstream, openai_client):
    upstream.script(Script(error_after=2))
    received = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in await openai_stream(openai_client):
            received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "Hello,"
    assert type(caught.value) is openai.APIError  # not an APIStatusError: the status was 200
    assert caught.value.message == "The server had an error while processing your request. Sorry about that!"
    assert caught.value.body["type"] == "server_error"
    assert upstream.requests[0].tokens_sent == 2


async def test_upstream_anthropic_error_after_raises_mid_stream(upstream, anthropic_client):
    upstream.script(Script(error_after=2))
    received = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async for event in await anthropic_stream(anthropic_client):
            if event.type == "content_block_delta":
                received.append(event.delta.text)

    assert "".join(received) == "Hello,"
    # Surprise: a generic APIStatusError with the 200 of the stream, not OverloadedError; the type is in the body.
    assert type(caught.value) is anthropic.APIStatusError and caught.value.status_code == 200
    assert caught.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


# -- disconnects -------------------------------------------------------------------------------------------


async def test_upstream_openai_stall_then_close_is_seen_as_disconnect(upstream, openai_client):
    upstream.script(Script(stall_after=2))
    stream = await openai_stream(openai_client)
    received = []
    async for chunk in stream:
        received.append(chunk.choices[0].delta.content)
        if len(received) == 3:  # the role chunk, then two tokens
            break

    closed_at = time.monotonic()
    await stream.close()
    rec = await upstream.await_disconnect()

    assert received == ["", "Hello", ","]
    assert 0 <= rec.disconnected_at - closed_at < 0.1
    assert (rec.tokens_sent, rec.completed_at) == (2, None)


async def test_upstream_anthropic_stall_then_cancel_is_seen_as_disconnect(upstream, anthropic_client):
    upstream.script(Script(stall_after=2))
    received: list[str] = []
    two_tokens = asyncio.Event()

    async def consume() -> None:
        async with anthropic_client.messages.stream(model="claude-test", max_tokens=64, messages=MESSAGES) as stream:
            async for text in stream.text_stream:
                received.append(text)
                if len(received) == 2:
                    two_tokens.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two_tokens.wait(), timeout=2)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rec = await upstream.await_disconnect()

    assert received == ["Hello", ","]
    assert 0 <= rec.disconnected_at - cancelled_at < 0.1
    assert (rec.tokens_sent, rec.completed_at) == (2, None)


def test_upstream_wait_for_disconnect_times_out_with_a_clear_message(upstream):
    with pytest.raises(AssertionError, match="No client disconnected"):
        upstream.wait_for_disconnect(timeout=0.05)


def test_upstream_stop_releases_a_stalled_stream():
    with FakeUpstream() as server:
        server.script(Script(stall_after=0))
        with httpx.Client() as client, client.stream("POST", server.base_url + "/v1/messages", json={"stream": True}):
            started = time.monotonic()
            server.stop()
        assert time.monotonic() - started < 2
