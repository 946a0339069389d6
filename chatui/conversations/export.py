"""Exports of a conversation's active path: Markdown to read, JSON to keep or process.

The JSON shape is versioned; what must stay true: a field is never removed or renamed without
bumping `EXPORT_VERSION`, and `detail_from_json(export_json(d))` rebuilds `d` exactly. Version 1:

    {
      "format": "chatui.conversation",  "version": 1,  "exported_at": ISO-8601,
      "conversation": {"id", "title", "created_at", "updated_at"},
      "messages": [                       # the active path, first to last
        {"id", "parent_id", "role": "user"|"assistant", "content" (Markdown),
         "created_at", "updated_at",
         "state": "streaming"|"complete"|"stopped"|"error"|"interrupted",
         "provider", "model",              # null on questions
         "usage": {"input_tokens", "output_tokens", "estimated"} | null,
         "ttft_ms", "duration_ms",         # numbers or null
         "citations": [{"marker", "source", "title", "snippet", "score", "chunk_id"}],
         "error": str | null,
         "feedback": {"rating": "up"|"down", "comment", "updated_at"} | null,
         "alternative_ids": [ids of this message and its alternatives, oldest first]}
      ]
    }

Times are ISO 8601 with a UTC offset. Alternatives that are not on the active path are named by
id only (export another path by selecting it first).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import datetime
from typing import Any

from chatui.conversations.values import (
    Citation,
    Conversation,
    ConversationDetail,
    Feedback,
    Message,
    Usage,
)

EXPORT_FORMAT = "chatui.conversation"
EXPORT_VERSION = 1
_SNIPPET_CHARS = 300
_ENDINGS = {
    "streaming": "*Still being written when exported.*",
    "stopped": "*Stopped before the end.*",
    "interrupted": "*Interrupted: the tab closed or the server restarted while this answer was being written.*",
}


def export_json(detail: ConversationDetail, exported_at: datetime) -> str:
    """The conversation as version-1 JSON (see the module docstring), pretty-printed."""
    conversation = detail.conversation
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": exported_at.isoformat(),
        "conversation": {
            "id": conversation.id,
            "title": conversation.title,
            "created_at": conversation.created_at.isoformat(),
            "updated_at": conversation.updated_at.isoformat(),
        },
        "messages": [_message_json(message) for message in detail.messages],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _message_json(message: Message) -> dict[str, Any]:
    data = asdict(message)
    del data["conversation_id"]  # it is the conversation's
    for key in ("created_at", "updated_at"):
        data[key] = data[key].isoformat()
    if message.feedback is not None:
        data["feedback"]["updated_at"] = message.feedback.updated_at.isoformat()
    data["citations"] = [asdict(citation) for citation in message.citations]
    data["alternative_ids"] = list(message.alternative_ids)
    return data


def detail_from_json(text: str) -> ConversationDetail:
    """Rebuild the values from a version-1 export; a ValueError says it is not one."""
    document = json.loads(text)
    if document.get("format") != EXPORT_FORMAT or document.get("version") != EXPORT_VERSION:
        raise ValueError(f"not a {EXPORT_FORMAT} export, version {EXPORT_VERSION}")
    c = document["conversation"]
    conversation = Conversation(c["id"], c["title"], _time(c["created_at"]), _time(c["updated_at"]))
    return ConversationDetail(
        conversation, tuple(_message_from_json(m, conversation.id) for m in document["messages"])
    )


def _message_from_json(m: dict[str, Any], conversation_id: str) -> Message:
    verdict = m["feedback"]
    return Message(
        id=m["id"],
        conversation_id=conversation_id,
        parent_id=m["parent_id"],
        role=m["role"],
        content=m["content"],
        created_at=_time(m["created_at"]),
        updated_at=_time(m["updated_at"]),
        state=m["state"],
        provider=m["provider"],
        model=m["model"],
        usage=Usage(**m["usage"]) if m["usage"] is not None else None,
        ttft_ms=m["ttft_ms"],
        duration_ms=m["duration_ms"],
        citations=tuple(Citation(**item) for item in m["citations"]),
        error=m["error"],
        feedback=None
        if verdict is None
        else Feedback(verdict["rating"], verdict["comment"], _time(verdict["updated_at"])),
        alternative_ids=tuple(m["alternative_ids"]),
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def export_markdown(detail: ConversationDetail, exported_at: datetime) -> str:
    """The conversation as a Markdown document: questions, answers, their sources and numbers."""
    conversation = detail.conversation
    about = (
        f"*Exported from chatui on {_when(exported_at)}: {len(detail.messages)} messages, "
        f"started {_when(conversation.created_at)}. Conversation `{conversation.id}`.*"
    )
    lines = [f"# {conversation.title}", "", about]
    for message in detail.messages:
        lines += ["", "---", "", *_message_markdown(message)]
    return "\n".join(lines) + "\n"


def _message_markdown(message: Message) -> list[str]:
    if message.role == "user":
        heading = "## You"
    else:
        by = " ".join(part for part in (message.provider, message.model) if part)
        heading = f"## Assistant ({by})" if by else "## Assistant"
    body = message.content.strip() or "*(empty)*"
    lines = [f"{heading} · {_when(message.created_at)}", "", body]
    if len(message.alternative_ids) > 1:
        kind = "answer" if message.role == "assistant" else "version of this question"
        count = len(message.alternative_ids)
        lines += ["", f"*Shown: {kind} {message.alternative_index + 1} of {count}.*"]
    if message.citations:
        lines += ["", "**Sources**", ""]
        for citation in message.citations:
            snippet = re.sub(r"\s+", " ", citation.snippet).strip()
            if len(snippet) > _SNIPPET_CHARS:
                snippet = snippet[: _SNIPPET_CHARS - 1].rstrip() + "…"
            lines.append(f"- [{citation.marker}] **{citation.title}**: `{citation.source}`")
            lines.append(f"  > {snippet}")
    if message.role == "assistant":
        lines += ["", *_answer_footer(message)]
    return lines


def _answer_footer(message: Message) -> list[str]:
    footer = []
    numbers = []
    if message.usage is not None:
        estimated = " (estimated)" if message.usage.estimated else ""
        numbers.append(
            f"{message.usage.input_tokens:,} in / {message.usage.output_tokens:,} out tokens"
            f"{estimated}"
        )
    if message.ttft_ms is not None:
        numbers.append(f"first token {message.ttft_ms:,.0f} ms")
    if message.duration_ms is not None:
        numbers.append(f"{message.duration_ms / 1000:,.1f} s")
    if numbers:
        footer.append("*" + " · ".join(numbers) + "*")
    if message.state == "error":
        footer.append(f"**Error:** {message.error or 'the answer failed.'}")
    elif message.state in _ENDINGS:
        footer.append(_ENDINGS[message.state])
    if message.feedback is not None:
        verdict = "helpful" if message.feedback.rating == "up" else "not helpful"
        comment = f": {message.feedback.comment}" if message.feedback.comment else ""
        footer.append(f"*Feedback: {verdict}{comment}*")
    return [line for item in footer for line in (item, "")][:-1]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
