"""What a client may ask: one question, the conversation so far, and optionally a provider/model.

Every transport validates through here (the API parses JSON with `parse_chat_request`, the UI calls
`check_question`), so the limits and their messages are the same everywhere. What must stay true:
a bad request raises `InputError` with a stable code, an HTTP status and a message that says what
to change; nothing is started for it.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from chatui.config import Settings
from chatui.errors import InputError
from chatui.providers import PROVIDERS
from chatui.providers.base import ChatMessage


_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]")


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: StrictStr


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    message: StrictStr
    history: list[HistoryTurn] = []
    provider: StrictStr | None = None
    model: StrictStr | None = None
    collection: StrictStr | None = None

    def history_messages(self) -> tuple[ChatMessage, ...]:
        return tuple(ChatMessage(turn.role, turn.content) for turn in self.history)


def parse_chat_request(body: bytes, settings: Settings) -> ChatRequest:
    """Parse and check a JSON request body; raises `InputError` saying what is wrong."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The body is not valid JSON: {exc}.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InputError(
            'The body must be a JSON object like {"message": "How do I install chatui?"}.',
            code="invalid_request",
        )
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
        )
        raise InputError(f"The request is invalid: {problems}.", code="invalid_request") from None
    check_question(request.message, request.history_messages(), settings)
    if request.collection is not None:
        check_collection(request.collection)
    if request.provider is not None and request.provider not in PROVIDERS:
        raise InputError(
            f"Unknown provider {request.provider!r}: choose one of {', '.join(sorted(PROVIDERS))}.",
            code="unknown_provider",
        )
    return request


def check_collection(name: str) -> None:
    """Knowledge base names: 3 to 63 letters, digits, '.', '_' or '-' (what Chroma accepts)."""
    if not _COLLECTION_NAME.fullmatch(name):
        raise InputError(
            f"{name!r} is not a knowledge base name: use 3 to 63 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit.",
            code="invalid_collection",
        )


def check_question(question: str, history: tuple[ChatMessage, ...], settings: Settings) -> None:
    """The limits every transport enforces on what a person sends."""
    if not question.strip():
        raise InputError("The message is empty: type a question.", code="empty_message")
    if len(question) > settings.max_message_chars:
        raise InputError(
            f"The message is {len(question):,} characters; the limit is "
            f"{settings.max_message_chars:,} (CHATUI_MAX_MESSAGE_CHARS). Shorten it or split it.",
            code="message_too_long",
            http_status=413,
        )
    if len(history) > settings.max_history_messages:
        raise InputError(
            f"The history has {len(history)} messages; the limit is "
            f"{settings.max_history_messages} (CHATUI_MAX_HISTORY_MESSAGES). Send fewer.",
            code="history_too_long",
            http_status=413,
        )
    history_chars = sum(len(turn.content) for turn in history)
    if history_chars > settings.max_history_chars:
        raise InputError(
            f"The history holds {history_chars:,} characters; the limit is "
            f"{settings.max_history_chars:,} (CHATUI_MAX_HISTORY_CHARS). Send less of it.",
            code="history_too_long",
            http_status=413,
        )
