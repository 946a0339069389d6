"""Conversations through the API: each user sees, searches and exports only their own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatui.api import create_api
from chatui.config import Settings
from chatui.conversations import ConversationStore
from tests.conftest import test_settings
from tests.servers import ServerThread


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return test_settings(tmp_path / "data", user_header="X-Forwarded-User")


def seed(settings: Settings) -> dict[str, str]:
    async def run() -> dict[str, str]:
        async with ConversationStore.from_settings(settings) as store:
            ids = {}
            for user, question in [("alice", "Where is the alpaca budget?"), ("bob", "Bob's secret plan")]:
                conversation = await store.create_conversation(user, question)
                await store.add_user_message(user, conversation.id, question)
                ids[user] = conversation.id
            return ids

    return asyncio.run(run())


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    ids = seed(settings)
    server = ServerThread(create_api(settings)).start()
    yield server.base_url, ids
    server.stop()


def as_user(user: str) -> dict[str, str]:
    return {"X-Forwarded-User": user}


def test_api_conversations_list_and_search_only_the_users_own(api):
    base, ids = api
    alice = httpx.get(f"{base}/api/conversations", headers=as_user("alice")).json()["conversations"]
    assert [c["id"] for c in alice] == [ids["alice"]]
    searched = httpx.get(f"{base}/api/conversations", params={"q": "secret"}, headers=as_user("alice"))
    assert searched.json()["conversations"] == []
    bob = httpx.get(f"{base}/api/conversations", params={"q": "secret"}, headers=as_user("bob")).json()
    assert [c["id"] for c in bob["conversations"]] == [ids["bob"]]


def test_api_conversations_export_refuses_another_users_conversation_as_not_found(api):
    base, ids = api
    own = httpx.get(f"{base}/api/conversations/{ids['alice']}/export", params={"format": "md"},
                    headers=as_user("alice"))
    assert own.status_code == 200 and "alpaca budget" in own.text
    as_json = httpx.get(f"{base}/api/conversations/{ids['alice']}", headers=as_user("alice"))
    assert json.loads(as_json.text)["conversation"]["id"] == ids["alice"]

    theirs = httpx.get(f"{base}/api/conversations/{ids['bob']}", headers=as_user("alice"))
    missing = httpx.get(f"{base}/api/conversations/{'0' * 32}", headers=as_user("alice"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"], "no hint that it exists"


def test_api_conversations_need_the_proxy_user_header(api):
    base, _ = api
    response = httpx.get(f"{base}/api/conversations", headers={"X-Chatui-User": "alice"})
    assert response.status_code == 401
    assert "X-Forwarded-User" in response.json()["error"]["message"]
