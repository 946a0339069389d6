"""The errors of the conversation store: every one says what happened and what to do next.

What must stay true: a conversation or message that belongs to another user gets exactly the same
error (code and message) as one that never existed, so an id reveals nothing about other people's
data. Conflicts between two tabs are `409`s that tell the person to reload, never a crash.
"""

from __future__ import annotations

from chatui.errors import InputError


class ConversationNotFound(InputError):
    """No such conversation for this user: never created, deleted (old tab), or someone else's."""

    def __init__(self) -> None:
        super().__init__(
            "This conversation does not exist or was deleted (perhaps in another tab). "
            "Pick one from the list or start a new conversation.",
            code="conversation_not_found",
            http_status=404,
        )


class MessageNotFound(InputError):
    """No such message in this user's conversations (or its conversation was deleted)."""

    def __init__(self) -> None:
        super().__init__(
            "This message does not exist or its conversation was deleted (perhaps in another "
            "tab). Reload the conversation.",
            code="message_not_found",
            http_status=404,
        )


class ConversationConflict(InputError):
    """Another writer (usually another tab) changed the conversation first; reloading fixes it.

    Codes: `conversation_changed` (the caller's view is out of date), `conversation_busy` (the last
    question still waits for its answer), `message_finished` (the answer was already finished).
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code, http_status=409)


def invalid_id(kind: str, value: str) -> InputError:
    """A malformed id: not an error about anyone's data, just about the request."""
    shown = value if len(value) <= 40 else value[:40] + "…"
    return InputError(
        f"{shown!r} is not a {kind} id: ids are 32 lowercase hexadecimal characters. "
        "Use an id from the conversation list.",
        code="invalid_id",
    )
