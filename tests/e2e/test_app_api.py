"""The done-criterion of the core: the app started with `reflex run --env prod` serves the page and
streams answers over `POST /api/chat/stream` on the same port."""

from __future__ import annotations

import time

import httpx
import pytest

from chatui.events import parse_event
from chatui.sse import SSEDecoder
from tests.fakes.upstream import FakeUpstream, Script

pytestmark = pytest.mark.e2e


def test_app_serves_the_chat_page_and_health_on_one_port(app_url: str):
    page = httpx.get(app_url, timeout=10)
    assert page.status_code == 200 and "<title>chatui</title>" in page.text
    health = httpx.get(f"{app_url}/api/health", timeout=10).json()
    assert health["status"] == "ok" and health["provider"] == "openai"
    assert health["knowledge_base"]["chunks"] > 5


def test_app_streams_an_offline_answer_status_citations_tokens_usage_done(app_url: str):
    decoder = SSEDecoder()
    raw = []
    body = {"message": "How do I install Quillmate with pip?", "provider": "offline"}
    with httpx.stream("POST", f"{app_url}/api/chat/stream", json=body, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        for chunk in response.iter_raw():
            raw += decoder.feed(chunk)
    events = [parse_event(e.event, e.data) for e in raw]
    kinds = [e.kind for e in events]
    first_token = kinds.index("token")
    assert kinds[0] == "status" and events[0].phase == "retrieval"
    assert set(kinds[1 : first_token - 1]) == {"citation"}
    assert kinds[first_token - 1] == "status" and events[first_token - 1].phase == "generating"
    assert kinds[-2:] == ["usage", "done"] and set(kinds[first_token:-2]) == {"token"}
    assert events[-1].finish_reason == "stop"
    assert "pip install quillmate" in "".join(e.text for e in events if e.kind == "token")


def test_app_client_disconnect_aborts_the_upstream_within_100ms(
    app_url: str, upstream: FakeUpstream
):
    upstream.script(Script(tokens=["one ", "two"], stall_after=1))
    decoder = SSEDecoder()
    body = {"message": "How do I install Quillmate?"}
    with httpx.stream("POST", f"{app_url}/api/chat/stream", json=body, timeout=30) as response:
        for chunk in response.iter_raw():
            if any(e.event == "token" for e in decoder.feed(chunk)):
                break
        closed_at = time.monotonic()
    record = upstream.wait_for_disconnect(timeout=5)
    assert record.disconnected_at - closed_at < 0.1
