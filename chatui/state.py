"""The chat page's state: UI fields and the handlers that run the pipeline, nothing more.

`ask` is a background event so that Stop and typing are handled while an answer streams; it only
folds pipeline events into fields. What must stay true: the in-flight answer lives in its own
fields (not inside `turns`), so an update while streaming does not resend the conversation; Stop
cancels the streaming task, which closes the upstream response; no secret is ever a state var.
"""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from chatui.chat_request import check_question
from chatui.config import get_settings
from chatui.errors import ChatUIError
from chatui.events import Event
from chatui.pipeline import answer
from chatui.providers.base import ChatMessage

# The streaming task of each browser tab, so that Stop can cancel it (one worker process).
_running: dict[str, asyncio.Task] = {}


@dataclasses.dataclass
class Source:
    marker: int = 0
    source: str = ""
    title: str = ""
    snippet: str = ""


@dataclasses.dataclass
class Turn:
    role: str = "user"
    content: str = ""
    state: str = "done"  # done | stopped | error
    label: str = ""
    sources: list[Source] = dataclasses.field(default_factory=list)
    error: str = ""
    stats: str = ""


class ChatState(rx.State):
    turns: list[Turn] = []
    streaming: bool = False
    phase: str = ""
    status: str = ""
    answer_text: str = ""
    answer_sources: list[Source] = []
    answer_label: str = ""
    answer_error: str = ""
    notice: str = ""

    @rx.event(background=True)
    async def ask(self, form: dict[str, str]):
        question = str(form.get("question", ""))
        async with self:
            if self.streaming:
                return
            history = tuple(ChatMessage(t.role, t.content) for t in self.turns if t.content)  # type: ignore[arg-type]
            try:
                check_question(question, history, get_settings())
            except ChatUIError as exc:
                self.notice = exc.message
                return
            self.notice = ""
            self.turns.append(Turn(role="user", content=question))
            self._start_answer()
        token = self.router.session.client_token
        _running[token] = asyncio.current_task()  # type: ignore[assignment]
        final_state, stats = "done", ""
        try:
            async for event in answer(question, history):
                async with self:
                    stats = self._apply(event) or stats
            final_state = "error" if self.answer_error else "done"
        except asyncio.CancelledError:
            final_state = "stopped"
            raise
        finally:
            _running.pop(token, None)
            async with self:
                self._finish_answer(final_state, stats)

    @rx.event
    def stop(self):
        task = _running.get(self.router.session.client_token)
        if task is not None:
            task.cancel()

    def _start_answer(self) -> None:
        self.streaming = True
        self.phase, self.status = "retrieval", "Searching docs…"
        self.answer_text, self.answer_error, self.answer_label = "", "", ""
        self.answer_sources = []

    def _apply(self, event: Event) -> str | None:
        match event.kind:
            case "status":
                self.phase, self.status = event.phase, event.detail
                if event.phase == "generating":
                    self.answer_label = event.detail
            case "citation":
                self.answer_sources.append(
                    Source(event.marker, event.source, event.title, event.snippet)
                )
            case "token":
                self.answer_text += event.text
            case "error":
                self.answer_error = event.message
            case "done":
                s = event.stats
                ttft = f"{s.ttft_ms:.0f} ms to first token · " if s.ttft_ms is not None else ""
                return f"{s.output_tokens} tokens · {s.tokens_per_s:.0f} tok/s · {ttft}{s.duration_ms / 1000:.1f} s"
        return None

    def _finish_answer(self, state: str, stats: str) -> None:
        self.turns.append(
            Turn(
                role="assistant",
                content=self.answer_text,
                state=state,
                label=self.answer_label,
                sources=list(self.answer_sources),
                error=self.answer_error,
                stats=stats,
            )
        )
        self.streaming = False
        self.phase = self.status = self.answer_text = self.answer_error = ""
        self.answer_sources = []
