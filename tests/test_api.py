"""The HTTP API end to end over a real socket: event order, headers, heartbeat, bad input, disconnect."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from chatui.api import create_api
from chatui.config import Settings
from chatui.events import parse_event
from chatui.sse import SSEDecoder
from tests.conftest import changed
from tests.fakes.upstream import FakeUpstream, Script
from tests.servers import ServerThread

QUESTION = {"message": "How do I install Quillmate with pip?"}


@pytest.fixture
def api_settings(kb_settings: Settings, upstream: FakeUpstream) -> Settings:
    return changed(
        kb_settings,
        openai_api_key="sk-test",
        openai_base_url=upstream.openai_base_url,
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=upstream.anthropic_base_url,
        max_message_chars=200,
        max_history_messages=4,
        max_history_chars=500,
    )


def serve(settings: Settings) -> ServerThread:
    return ServerThread(create_api(settings)).start()


@pytest.fixture
def api(api_settings: Settings) -> Iterator[str]:
    server = serve(api_settings)
    yield server.base_url
    server.stop()


def stream(base_url: str, body: object, timeout: float = 10) -> tuple[httpx.Response, list, SSEDecoder]:
    decoder = SSEDecoder()
    events = []
    with httpx.stream("POST", f"{base_url}/api/chat/stream", json=body, timeout=timeout) as response:
        for chunk in response.iter_raw():
            events += decoder.feed(chunk)
    return response, events, decoder


def test_api_streams_events_in_order_with_sse_headers(api: str):
    response, raw, _ = stream(api, QUESTION)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers.get("content-encoding", "identity") == "identity"
    assert [e.id for e in raw] == [str(n) for n in range(1, len(raw) + 1)]
    events = [parse_event(e.event, e.data) for e in raw]
    names = [e.kind for e in events]
    assert names[0] == "status" and names[-2:] == ["usage", "done"]
    assert names.index("citation") < names.index("token")
    compact = [json.dumps(json.loads(e.data), separators=(",", ":"), ensure_ascii=False) for e in raw]
    assert [e.data for e in raw] == compact
    assert "pip install quillmate" in "".join(e.text for e in events if e.kind == "token")
    assert events[-1].finish_reason == "stop"


def test_api_flushes_each_token_as_it_is_produced(api: str, upstream: FakeUpstream):
    upstream.script(Script(tokens=["first ", "second"], delay_s=0.3))
    arrivals: dict[str, float] = {}
    decoder = SSEDecoder()
    body = QUESTION | {"provider": "openai"}
    with httpx.stream("POST", f"{api}/api/chat/stream", json=body, timeout=10) as response:
        for chunk in response.iter_raw():
            for event in decoder.feed(chunk):
                if event.event == "token":
                    arrivals[json.loads(event.data)["text"]] = time.monotonic()
    assert arrivals["second"] - arrivals["first "] > 0.2, "tokens must not be buffered together"


def test_api_sends_a_ping_comment_after_silence(api_settings: Settings, upstream: FakeUpstream):
    upstream.script(Script(tokens=["late"], first_token_delay_s=0.5))
    server = serve(changed(api_settings, sse_ping_s=0.1))
    try:
        _, events, decoder = stream(server.base_url, QUESTION | {"provider": "anthropic"})
    finally:
        server.stop()
    assert decoder.comments >= 2
    assert events[-1].event == "done"


def test_api_client_disconnect_aborts_the_upstream_within_100ms(api: str, upstream: FakeUpstream):
    upstream.script(Script(tokens=["one ", "two"], stall_after=1))
    decoder = SSEDecoder()
    with httpx.stream(
        "POST", f"{api}/api/chat/stream", json=QUESTION | {"provider": "openai"}, timeout=10
    ) as response:
        for chunk in response.iter_raw():
            if any(e.event == "token" for e in decoder.feed(chunk)):
                break
        closed_at = time.monotonic()
    record = upstream.wait_for_disconnect(timeout=2)
    assert record.disconnected_at - closed_at < 0.1


BAD_REQUESTS = [
    pytest.param(b"{not json", "application/json", 400, "invalid_json", id="invalid-json"),
    pytest.param(b"[1, 2]", "application/json", 400, "invalid_request", id="not-an-object"),
    pytest.param(b"{}", "application/json", 400, "invalid_request", id="missing-message"),
    pytest.param(b'{"message": "   "}', "application/json", 400, "empty_message", id="blank-message"),
    pytest.param(b'{"message": 42}', "application/json", 400, "invalid_request", id="message-not-string"),
    pytest.param(
        json.dumps({"message": "x" * 201}).encode(), "application/json", 413, "message_too_long",
        id="message-too-long",
    ),
    pytest.param(
        json.dumps({"message": "hi", "history": "nope"}).encode(), "application/json", 400,
        "invalid_request", id="history-not-a-list",
    ),
    pytest.param(
        json.dumps({"message": "hi", "history": [{"role": "system", "content": "x"}]}).encode(),
        "application/json", 400, "invalid_request", id="history-bad-role",
    ),
    pytest.param(
        json.dumps({"message": "hi", "history": [{"role": "user", "content": "x"}] * 5}).encode(),
        "application/json", 413, "history_too_long", id="history-too-many",
    ),
    pytest.param(
        json.dumps({"message": "hi", "history": [{"role": "user", "content": "x" * 501}]}).encode(),
        "application/json", 413, "history_too_long", id="history-too-large",
    ),
    pytest.param(
        json.dumps({"message": "hi", "provider": "skynet"}).encode(), "application/json", 400,
        "unknown_provider", id="unknown-provider",
    ),
    pytest.param(
        json.dumps({"message": "hi", "mesage": "typo"}).encode(), "application/json", 400,
        "invalid_request", id="unknown-field",
    ),
    pytest.param(b"message=hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type", id="form"),
    pytest.param(b'{"message": "hi"}', "text/plain", 415, "unsupported_media_type", id="text-plain"),
    pytest.param(b"\xff\xfe{", "application/json", 400, "invalid_json", id="not-utf8"),
    pytest.param(b'{"message": "' + b"x" * 600_000 + b'"}', "application/json", 413, "body_too_large", id="huge-body"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "code"), BAD_REQUESTS)
def test_api_rejects_bad_input_with_a_json_error(
    api: str, upstream: FakeUpstream, body: bytes, content_type: str, status: int, code: str
):
    response = httpx.post(
        f"{api}/api/chat/stream", content=body, headers={"content-type": content_type}, timeout=10
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 20
    assert not upstream.requests, "nothing starts for a bad request"


def test_api_missing_key_is_a_503_naming_the_variable(api_settings: Settings):
    server = serve(changed(api_settings, anthropic_api_key=None))
    try:
        response = httpx.post(f"{server.base_url}/api/chat/stream", json=QUESTION | {"provider": "anthropic"})
    finally:
        server.stop()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "config"
    assert "ANTHROPIC_API_KEY" in response.json()["error"]["message"]


def test_api_rate_limit_answers_429_with_retry_after(api_settings: Settings):
    server = serve(changed(api_settings, rate_limit="2/minute"))
    try:
        statuses = [stream(server.base_url, QUESTION)[0].status_code for _ in range(2)]
        limited = httpx.post(f"{server.base_url}/api/chat/stream", json=QUESTION)
    finally:
        server.stop()
    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_api_health_reports_provider_model_and_chunks(api: str):
    response = httpx.get(f"{api}/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["provider"] == "offline" and body["model"] == "extractive"
    assert body["knowledge_base"]["collection"] == "docs"
    assert body["knowledge_base"]["chunks"] > 5


def test_api_health_says_what_is_misconfigured(api_settings: Settings):
    server = serve(changed(api_settings, provider="openai", openai_api_key=None, openai_base_url=None))
    try:
        response = httpx.get(f"{server.base_url}/api/health")
    finally:
        server.stop()
    assert response.status_code == 503
    assert response.json()["status"] == "misconfigured"
    assert "OPENAI_API_KEY" in response.json()["problem"]
