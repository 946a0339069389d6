"""The chat page's state: UI fields and the handlers that run the pipeline, nothing more.

`ask` (and `retry`) are background events, so that Stop, Esc and typing are handled while an answer
streams. They fold pipeline events into frames of at most one update per ~16 ms.
What must stay true:

- Flat wire cost: the answer in flight is not a state var. Its text and live counters reach the
  browser as messages carrying only what changed (`chatui.stream_wire`), on the page's websocket;
  the counters at most every `COUNTERS_S`. Whether it is in flight, its phase and sources are
  `LiveAnswer`, a state of its own: asking a question must not touch this state, whose `turns` the
  browser re-renders whole on any change (only Retry and Edit change `turns` as they start, to
  drop what they replace). The answer joins `turns` when it ends.
- Stop cancels the streaming task; cancellation reaches the provider, which closes the upstream
  response at once. Closing the tab does the same within a few seconds (a watchdog).
- Nothing the user typed is lost: the composer is cleared only once a question is accepted, and a
  failed answer keeps its question for Retry. No secret is ever a state var.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import reflex as rx

from chatui.answer_record import AnswerRecord
from chatui.chat_request import check_question
from chatui.coalesce import frames
from chatui.config import get_settings
from chatui.conversations import title_from_question
from chatui.conversations_state import ConversationsMixin
from chatui.errors import ChatUIError
from chatui.events import Event
from chatui.live_answer import LiveAnswer
from chatui.persistence import conversation_store
from chatui.pipeline import AnswerOptions, answer, open_knowledge_base
from chatui.providers.base import ChatMessage
from chatui.rendering import IncrementalMarkdown
from chatui.stream_wire import ATTACH_SCRIPT, SOCKET_EVENT, StreamWire
from chatui.tabs import grace_s
from chatui.timing import AnswerClock
from chatui.turns import Turn, ms_text, usage_text

# The streaming task of each browser tab, so that Stop can cancel it (one worker process), and the
# tabs that were reloaded or reconnected mid-answer and need the answer so far.
_running: dict[str, asyncio.Task[Any]] = {}
_resync_wanted: set[str] = set()
_stop_asked: set[str] = set()  # cancelled by the person (Stop, Esc); else the answer was interrupted
_fast_lane: set[str] = set()  # tabs whose page listens for stream messages on its websocket
TAB_CHECK_S = 1.0  # how often a streaming task checks that its tab is still open (see chatui.tabs)
COUNTERS_S = 0.25  # live counters refresh at most this often (the text itself, every frame)
TAIL_TICK_S = 0.1  # while the model pauses, how often the unrendered tail is checked for its render


class ChatState(ConversationsMixin, rx.State):
    turns: list[Turn] = []
    notice: str = ""  # why the composer's text was not sent
    editing_id: str = ""  # the question being edited, if any
    collection: str = ""  # the knowledge base questions go to ("" = CHATUI_COLLECTION)
    collections: list[str] = []

    @rx.event(background=True)
    async def ask(self, form_data: dict[str, Any]):
        question = str(form_data.get("question", ""))
        if not question.strip():
            return  # a blank message is not sent
        async with self:
            if await self._answering():
                return
            history = self._history()
            try:
                check_question(question, history, get_settings())
                question_id = await self._store_question(question)
            except ChatUIError as exc:
                await self._recover(exc)  # says what happened; the text stays in the composer
                return
            if self.notice:  # (assigning even the same value would re-render the conversation)
                self.notice = ""
            answer_id = await self._begin(question)  # shown by LiveAnswer; it joins `turns` with its answer
        yield rx.set_value("composer", "")
        async for event in self._answer(question, history, question_id, answer_id):
            yield event

    @rx.event(background=True)
    async def retry(self, turn_id: str):
        """Regenerate an answer: a new alternative to the same question (the old one is kept)."""
        async with self:
            index = next((i for i, t in enumerate(self.turns) if t.id == turn_id), None)
            if await self._answering() or index is None or index == 0 or self.turns[index].role != "assistant":
                return
            question_turn = self.turns[index - 1]
            self.turns = self.turns[:index]
            history = self._history()[:-1]  # the question itself is the last user turn
            answer_id = await self._begin()
        async for event in self._answer(question_turn.content, history, question_turn.id, answer_id):
            yield event

    @rx.event(background=True)
    async def edit_question(self, form_data: dict[str, Any]):
        """Edit a question and ask it again from there (the old branch stays stored)."""
        turn_id, text = str(form_data.get("turn_id", "")), str(form_data.get("question", ""))
        async with self:
            index = next((i for i, t in enumerate(self.turns) if t.id == turn_id), None)
            if await self._answering() or index is None or not text.strip():
                return
            history = tuple(self._history_of(self.turns[:index]))
            try:
                check_question(text, history, get_settings())
                question_id = await conversation_store().edit_user_message(self._user(), turn_id, text)
            except ChatUIError as exc:
                await self._recover(exc)
                return
            self.turns = [*self.turns[:index], Turn(id=question_id, role="user", content=text, stored=True)]
            self.editing_id = ""
            answer_id = await self._begin()
        async for event in self._answer(text, history, question_id, answer_id):
            yield event

    @rx.event
    async def on_page_load(self):
        """A (re)loaded page: if an answer is still streaming for this tab, ask for its snapshot.
        The page is offered the fast lane for streamed text (see `chatui.stream_wire`)."""
        token = self.router.session.client_token
        _fast_lane.discard(token)  # a new page: it listens once its attach script says so
        if await self._answering() and token in _running:
            _resync_wanted.add(token)
        attach = rx.call_script(ATTACH_SCRIPT, callback=ChatState.fast_lane_ready)
        try:
            self._user()
        except ChatUIError as exc:
            self.notice = exc.message
            return attach
        return [attach, ChatState.load_collections, ChatState.refresh_conversations]

    @rx.event
    def fast_lane_ready(self, attached: Any):
        if attached is True:
            _forget_closed_tabs()
            _fast_lane.add(self.router.session.client_token)

    @rx.event
    async def load_collections(self):
        settings = get_settings()
        try:
            store = await open_knowledge_base(settings)
            names = await asyncio.to_thread(store.collection_names)
        except ChatUIError:
            names = []
        self.collections = sorted(set(names) | {settings.collection})
        self.collection = self.collection or settings.collection

    @rx.event
    def choose_collection(self, name: str):
        if name in self.collections:
            self.collection = name

    @rx.event
    async def start_edit(self, turn_id: str):
        self.editing_id = "" if await self._answering() else turn_id

    @rx.event
    def cancel_edit(self):
        self.editing_id = ""

    @rx.event
    def stop(self):
        task = _running.get(self.router.session.client_token)
        if task is not None:
            _stop_asked.add(self.router.session.client_token)
            task.cancel()

    # -- the streaming loop ----------------------------------------------------------------------

    async def _answer(
        self, question: str, history: tuple[ChatMessage, ...], question_id: str, answer_id: str
    ) -> AsyncIterator[Any]:
        token = self.router.session.client_token
        record = AnswerRecord(conversation_store(), self._user(), self.conversation_id, question_id)
        task = asyncio.current_task()
        assert task is not None
        _running[token] = task
        watchdog = asyncio.create_task(_cancel_when_tab_closes(token, task))
        clock = AnswerClock()
        anchors = f"src-{answer_id}-"
        wire = StreamWire(answer_id, _socket_sender(token) if token in _fast_lane else None)
        if (script := await wire.begin()) is not None:
            yield script
        _resync_wanted.discard(token)
        markdown: IncrementalMarkdown | None = None
        counters_due = 0.0
        outcome = "done"
        try:
            options = AnswerOptions(collection=self.collection or None)
            events = answer(question, history, options)
            async for batch in frames(events, at_once=_at_once(clock), idle_s=TAIL_TICK_S):
                # A reloaded or reconnected page gets all it missed as soon as it is there, even
                # while the model pauses (then a tick, an empty batch, comes every TAIL_TICK_S).
                if token in _resync_wanted:
                    _resync_wanted.discard(token)
                    yield wire.resync()
                if not batch:  # the model is pausing: the tail may be due for its render now
                    if markdown is not None and (update := markdown.update()).tail_html is not None:
                        if (script := await wire.update(update)) is not None:
                            yield script
                    continue
                texts = [e.text for e in batch if e.kind == "token"]
                others = [e for e in batch if e.kind != "token"]
                for event in others:
                    record.note(event)
                if texts and markdown is None:  # citations always come before the first token
                    markdown = IncrementalMarkdown(sources=len(record.citations), anchor_prefix=anchors)
                for text in texts:
                    clock.token()
                    markdown.feed(text)  # type: ignore[union-attr]
                # The text goes first, so the browser shows it before re-rendering anything; then
                # the counters (at most every COUNTERS_S, the first token's at once), LiveAnswer
                # (phase, sources), then the save.
                if markdown is not None and texts:
                    if (script := await wire.update(markdown.update())) is not None:
                        yield script
                    if (now := time.monotonic()) >= counters_due:
                        counters_due = now + COUNTERS_S
                        if (script := await wire.count(*_counters(clock))) is not None:
                            yield script
                first_token = bool(texts) and clock.tokens == len(texts)
                if others or first_token:
                    async with self:
                        live = await self.get_state(LiveAnswer)
                        for event in others:
                            live._apply(event, anchors)
                        if first_token:
                            live._first_token()
                if markdown is not None and texts:
                    await record.progress(markdown.text)
            outcome = "error" if record.error else "done"
        except asyncio.CancelledError:
            # Stopped by the person, or interrupted: the server shut down, or the tab went away (closed,
            # or its connection lost; during a shutdown both happen, in either order).
            outcome = "stopped" if token in _stop_asked else "interrupted"
            raise
        finally:
            watchdog.cancel()
            _running.pop(token, None)
            _stop_asked.discard(token)
            if markdown is not None:
                markdown.finish()
            await record.finish(
                {"done": "complete"}.get(outcome, outcome),  # type: ignore[arg-type]
                markdown.text if markdown else "",
                clock.stats(),
            )
            await wire.end()
            async with self:
                live = await self.get_state(LiveAnswer)
                if live.question:
                    self.turns.append(Turn(id=question_id, role="user", content=question, stored=True))
                self.turns.append(_finished_turn(outcome, question, markdown, clock, record, live, answer_id))
                live._end(outcome)
                if record.failure:
                    self.notice = record.failure
                if record.message_id is not None and not record.failure:
                    try:
                        await self._reload()  # show what the store says: alternatives, ids
                    except ChatUIError as exc:
                        self.notice = exc.message
                await self._load_list()

    async def _store_question(self, question: str) -> str:
        """Save the question (starting a conversation if needed); its id."""
        store, user = conversation_store(), self._user()
        if not self.conversation_id:
            conversation = await store.create_conversation(user, title_from_question(question))
            self.conversation_id, self.conversation_title = conversation.id, conversation.title
        leaf = next((t.id for t in reversed(self.turns) if t.stored), None)
        return await store.add_user_message(user, self.conversation_id, question, expected_leaf_id=leaf)

    def _history(self) -> tuple[ChatMessage, ...]:
        return tuple(self._history_of(self.turns))

    @staticmethod
    def _history_of(turns: list[Turn]) -> list[ChatMessage]:
        """The conversation a model should see: questions and the answers that were shown."""
        return [
            ChatMessage(t.role, t.content)  # type: ignore[arg-type]
            for t in turns
            if t.content and t.state != "error"
        ]

    async def _begin(self, question: str = "") -> str:
        """A new answer in flight (called inside `async with self`), to a new `question` (not yet
        in `turns`), or to the last question in `turns` if none; its id."""
        answer_id = _new_id()
        (await self.get_state(LiveAnswer))._begin(answer_id, question)
        return answer_id

    async def _answering(self) -> bool:
        """Whether an answer is in flight for this tab (then nothing may start another)."""
        return (await self.get_state(LiveAnswer)).streaming


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _finished_turn(
    outcome: str,
    question: str,
    markdown: IncrementalMarkdown | None,
    clock: AnswerClock,
    record: AnswerRecord,
    live: LiveAnswer,
    answer_id: str,
) -> Turn:
    """The answer as a turn of the conversation (until the store's own view replaces it)."""
    stats, usage = clock.stats(), record.usage
    return Turn(
        id=record.message_id or answer_id,
        role="assistant",
        content=markdown.text if markdown else "",
        html=markdown.html if markdown else "",
        state=outcome,
        label=record.label,
        sources=list(live.sources),
        error=record.error,
        question=question,
        tokens=str(stats.output_tokens),
        tokens_per_s=f"{stats.tokens_per_s:.0f}",
        ttft=ms_text(stats.ttft_ms),
        usage=usage_text(usage.input_tokens, usage.output_tokens, usage.estimated) if usage else "",
        duration=f"{stats.duration_ms / 1000:.1f} s",
    )


def _at_once(clock: AnswerClock) -> Callable[[Event], bool]:
    """Events sent without waiting for the frame (see `frames`): a phase change (the sources go
    with it) and the first token. The browser has the time until the first token to render the
    sources; holding them for a frame would make it render them just as the token arrives."""
    return lambda event: event.kind == "status" or (event.kind == "token" and not clock.tokens)


def _counters(clock: AnswerClock) -> tuple[str, str, str]:
    """Tokens, tokens per second and time to first token, as the page shows them."""
    stats = clock.stats()
    per_s = f"{stats.tokens_per_s:.0f}" if stats.output_tokens > 1 else "–"
    return str(stats.output_tokens), per_s, ms_text(stats.ttft_ms)


def _event_namespace() -> Any:
    """The app's websocket namespace (its `token_to_sid` says which tabs are connected), or None
    before the app has one."""
    from chatui.chatui import app  # the app module imports this one

    return app.event_namespace


def _forget_closed_tabs() -> None:
    """Drop fast-lane marks of tabs that are no longer connected (Reflex does not say when one
    closes; a page load is a good moment to look)."""
    if (namespace := _event_namespace()) is not None:
        _fast_lane.intersection_update(namespace.token_to_sid)


def _socket_sender(client_token: str):
    """Sends fast-lane stream messages to the tab's current websocket (it may reconnect)."""

    async def send(message: object) -> None:
        namespace = _event_namespace()
        sid = namespace.token_to_sid.get(client_token) if namespace is not None else None
        if sid is not None:  # else the tab is away: when it is back, its page load asks for a resync
            await namespace.emit(SOCKET_EVENT, message, to=sid)
            # The emit only queues the message; the websocket's writer is another task, and this
            # one may not wait on anything for a while when tokens pour in: give the writer a turn.
            await asyncio.sleep(0)

    return send


async def _cancel_when_tab_closes(client_token: str, task: asyncio.Task[Any]) -> None:
    """Reflex does not cancel a background task when its tab goes away; this does, once the tab has
    been gone for its grace: short if it said it was leaving, long if it only lost its connection."""
    gone = 0
    while True:
        await asyncio.sleep(TAB_CHECK_S)
        namespace = _event_namespace()
        if namespace is None:
            continue
        gone = gone + 1 if client_token not in namespace.token_to_sid else 0
        if gone and gone * TAB_CHECK_S >= grace_s(client_token):
            task.cancel()  # an interrupted answer, not a stopped one: nobody pressed Stop
            return
