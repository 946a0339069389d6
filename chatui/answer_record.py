"""Saving one answer as it streams: at its first token, about once a second, and at its end.

The chat page uses one `AnswerRecord` per answer and hands it every non-token pipeline event
(`note`): it keeps what the stored answer needs (label, model, citations, usage, error). What must
stay true: a server restart loses at most the last second of an answer (`SAVE_EVERY_S`); the final
save carries the state (complete, stopped, error), usage, timings and citations; a failing database
never breaks the stream: the failure is logged and the answer goes on (the page says it was not
saved).
"""

from __future__ import annotations

import logging
import time

from chatui.conversations import Citation, ConversationStore, FinishedState, Usage
from chatui.errors import ChatUIError
from chatui.events import Event, Stats

log = logging.getLogger(__name__)
SAVE_EVERY_S = 1.0


class AnswerRecord:
    def __init__(self, store: ConversationStore, user: str, conversation_id: str, question_id: str):
        self._store, self._user = store, user
        self._conversation_id, self._question_id = conversation_id, question_id
        self.message_id: str | None = None
        self.failure: str = ""
        self._next_save = 0.0
        self.label = self.model = self.error = ""  # provider · model, the model's id, a failure
        self.citations: list[Citation] = []
        self.usage: Usage | None = None

    def note(self, event: Event) -> None:
        """Keep what the stored answer needs from one pipeline event."""
        match event.kind:
            case "status" if event.phase == "generating":
                self.label, self.model = event.detail, event.model or ""
            case "citation":
                self.citations.append(Citation.from_event(event))
            case "usage":
                self.usage = Usage.from_event(event)
            case "error":
                self.error = event.message

    async def progress(self, text: str) -> None:
        """The answer so far: saved at the first call, then at most every SAVE_EVERY_S."""
        now = time.monotonic()
        if self.message_id is not None and now < self._next_save:
            return
        self._next_save = now + SAVE_EVERY_S
        try:
            if self.message_id is None:
                self.message_id = await self._start()
            await self._store.update_assistant_message(
                self._user, self.message_id, text, citations=self.citations
            )
        except ChatUIError as exc:
            self._failed(exc)

    async def finish(self, state: FinishedState, text: str, stats: Stats) -> None:
        try:
            if self.message_id is None:
                self.message_id = await self._start()
            await self._store.finish_assistant_message(
                self._user,
                self.message_id,
                state=state,
                content=text,
                usage=self.usage,
                ttft_ms=stats.ttft_ms,
                duration_ms=stats.duration_ms,
                citations=self.citations,
                error=self.error or None,
            )
        except ChatUIError as exc:
            self._failed(exc)

    async def _start(self) -> str:
        return await self._store.start_assistant_message(
            self._user, self._conversation_id, self._question_id, self.label, self.model
        )

    def _failed(self, exc: ChatUIError) -> None:
        log.warning("could not save answer %s: %s", self.message_id, exc.message)
        self.failure = f"This answer was not saved: {exc.message}"
