"""Exports: readable Markdown with sources and numbers; versioned JSON that round-trips; the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chatui.config import Settings
from chatui.conversations import (
    EXPORT_VERSION,
    LOCAL_USER,
    Citation,
    ConversationStore,
    Usage,
    detail_from_json,
)
from tests.conversations.conftest import POSTGRES_URL, answered

USER = "ada"
CITATION = Citation(1, "guide/install.md", "Installing", "Run  pip install\nchatui.", 0.83, "c0")


async def rich_conversation(store: ConversationStore, user: str = USER) -> str:
    """Two turns: a complete, cited, rated answer (regenerated once) and a stopped one."""
    conversation = await store.create_conversation(user, "Install help")
    question, _ = await answered(store, user, conversation.id, "How do I install?", "Old answer")
    answer = await store.start_assistant_message(user, conversation.id, question, "openai", "gpt-x")
    await store.finish_assistant_message(
        user,
        answer,
        state="complete",
        content="Run `pip install chatui` [1].",
        usage=Usage(412, 98, estimated=True),
        ttft_ms=310.0,
        duration_ms=2100.0,
        citations=[CITATION],
    )
    await store.set_feedback(user, answer, "up", "Exactly right")
    second = await store.add_user_message(user, conversation.id, "And on Windows?")
    stopped = await store.start_assistant_message(user, conversation.id, second, "openai", "gpt-x")
    await store.finish_assistant_message(user, stopped, state="stopped", content="On Windows")
    return conversation.id


async def test_export_markdown_is_readable_with_sources(store: ConversationStore) -> None:
    conversation_id = await rich_conversation(store)

    text = await store.export_markdown(USER, conversation_id)

    assert text.startswith("# Install help\n")
    assert "## You · 2025-06-01 09:00 UTC\n\nHow do I install?" in text
    assert "## Assistant (openai gpt-x)" in text
    assert "Run `pip install chatui` [1]." in text
    assert "Old answer" not in text  # only the active path
    assert "*Shown: answer 2 of 2.*" in text
    assert "- [1] **Installing**: `guide/install.md`\n  > Run pip install chatui." in text
    assert "*412 in / 98 out tokens (estimated) · first token 310 ms · 2.1 s*" in text
    assert "*Feedback: helpful: Exactly right*" in text
    assert "On Windows\n\n*Stopped before the end.*" in text
    assert text.index("How do I install?") < text.index("And on Windows?")


async def test_export_json_has_the_documented_shape(store: ConversationStore) -> None:
    conversation_id = await rich_conversation(store)

    document = json.loads(await store.export_json(USER, conversation_id))

    assert document["format"] == "chatui.conversation" and document["version"] == EXPORT_VERSION
    assert set(document) == {"format", "version", "exported_at", "conversation", "messages"}
    assert document["conversation"]["id"] == conversation_id
    assert document["conversation"]["title"] == "Install help"
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"] * 2
    answer = document["messages"][1]
    assert set(answer) == {
        "id",
        "parent_id",
        "role",
        "content",
        "created_at",
        "updated_at",
        "state",
        "provider",
        "model",
        "usage",
        "ttft_ms",
        "duration_ms",
        "citations",
        "error",
        "feedback",
        "alternative_ids",
    }
    assert answer["usage"] == {"input_tokens": 412, "output_tokens": 98, "estimated": True}
    assert answer["citations"] == [
        {
            "marker": 1,
            "source": "guide/install.md",
            "title": "Installing",
            "snippet": "Run  pip install\nchatui.",
            "score": 0.83,
            "chunk_id": "c0",
        }
    ]
    assert answer["feedback"]["rating"] == "up" and answer["feedback"]["comment"] == "Exactly right"
    assert len(answer["alternative_ids"]) == 2 and answer["id"] == answer["alternative_ids"][1]
    assert answer["created_at"].endswith("+00:00")
    assert document["messages"][3]["state"] == "stopped"
    assert document["messages"][0]["usage"] is None and document["messages"][0]["provider"] is None


async def test_export_json_round_trips_to_the_same_values(store: ConversationStore) -> None:
    conversation_id = await rich_conversation(store)

    rebuilt = detail_from_json(await store.export_json(USER, conversation_id))

    assert rebuilt == await store.get_conversation(USER, conversation_id)


def test_export_json_refuses_other_formats() -> None:
    with pytest.raises(ValueError):
        detail_from_json(json.dumps({"format": "chatui.conversation", "version": 99}))


def chatui(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    """`chatui ARGS` as a user runs it: a real process on the test's database."""
    prefixes = ("CHATUI_", "OPENAI_", "ANTHROPIC_")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    environment["CHATUI_DATA_DIR"] = str(settings.data_dir)
    if POSTGRES_URL is not None:
        environment["CHATUI_DATABASE_URL"] = POSTGRES_URL
    return subprocess.run(
        [sys.executable, "-m", "chatui.cli", *args],
        cwd=settings.data_dir.parent,
        env=environment,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )


async def test_export_cli_prints_markdown_and_json(settings: Settings) -> None:
    async with ConversationStore(settings) as store:
        conversation_id = await rich_conversation(store, LOCAL_USER)

    markdown = chatui("export", conversation_id, settings=settings)
    as_json = chatui("export", conversation_id, "--format", "json", settings=settings)

    assert markdown.returncode == 0, markdown.stderr
    assert (
        markdown.stdout.startswith("# Install help\n") and "[1] **Installing**" in markdown.stdout
    )
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["conversation"]["id"] == conversation_id


async def test_export_cli_is_scoped_to_a_user(settings: Settings) -> None:
    async with ConversationStore(settings) as store:
        conversation_id = await rich_conversation(store, "bob")

    as_local = chatui("export", conversation_id, settings=settings)
    as_bob = chatui("export", conversation_id, "--user", "bob", settings=settings)
    bad_id = chatui("export", "not-an-id", settings=settings)

    assert as_local.returncode == 1 and "does not exist" in as_local.stderr
    assert as_local.stdout == ""
    assert as_bob.returncode == 0 and as_bob.stdout.startswith("# Install help")
    assert bad_id.returncode == 1 and "not a conversation id" in bad_id.stderr
