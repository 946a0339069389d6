"""chatui.tabs: a tab that said it is leaving gets a short grace, a tab that lost its connection a
long one; the beacon route over a real socket; marks expire."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from chatui import tabs
from chatui.api import create_api
from chatui.config import Settings
from tests.servers import ServerThread


@pytest.fixture
def api(kb_settings: Settings) -> Iterator[str]:
    server = ServerThread(create_api(kb_settings)).start()
    yield server.base_url
    server.stop()


@pytest.fixture(autouse=True)
def no_marks() -> Iterator[None]:
    tabs._leaving.clear()
    yield
    tabs._leaving.clear()


def test_a_tab_that_said_nothing_is_waited_for_long_one_that_is_leaving_briefly():
    assert tabs.grace_s("tab-a") == tabs.LOST_GRACE_S
    tabs.mark_leaving("tab-a")
    assert tabs.grace_s("tab-a") == tabs.LEAVING_GRACE_S < tabs.LOST_GRACE_S
    assert tabs.grace_s("tab-b") == tabs.LOST_GRACE_S


def test_a_mark_expires_and_old_marks_are_dropped(monkeypatch: pytest.MonkeyPatch):
    now = [1000.0]
    monkeypatch.setattr(tabs.time, "monotonic", lambda: now[0])
    tabs.mark_leaving("reloaded")
    now[0] += tabs.MARK_VALID_S + 1  # a network blip long after a reload is not a leaving tab
    assert tabs.grace_s("reloaded") == tabs.LOST_GRACE_S
    tabs.mark_leaving("other")
    assert set(tabs._leaving) == {"other"}


def test_the_beacon_route_marks_the_tab(api: str):
    response = httpx.post(f"{api}/api/tab/leaving", content="tok-123", headers={"content-type": "text/plain"})
    assert response.status_code == 204
    assert tabs.grace_s("tok-123") == tabs.LEAVING_GRACE_S


@pytest.mark.parametrize(("body", "status"), [("", 400), ("   ", 400), ("x" * (tabs.MAX_TOKEN_CHARS + 1), 413)])
def test_the_beacon_route_refuses_an_empty_or_oversized_body_and_marks_nothing(api: str, body: str, status: int):
    assert httpx.post(f"{api}/api/tab/leaving", content=body).status_code == status
    assert not tabs._leaving
