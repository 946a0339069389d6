"""The chat page's conversation handling: who the user is, the sidebar, and stored-turn actions.

A state mixin of `ChatState` (Reflex mixes it into that one state): identity, the conversation list
(by recency, searchable), new chat, open, rename, delete, export, feedback and flipping between
alternative answers. Every action goes to `chatui.conversations` and the page then shows what the
store says (`turns_from`). What must stay true: every call is scoped to `_user()`; a failure
(deleted elsewhere, changed in another tab, bad id) becomes a notice, never a crash.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any

import reflex as rx

from chatui.config import get_settings
from chatui.conversations import ConversationConflict, ConversationDetail, ConversationNotFound
from chatui.errors import ChatUIError
from chatui.persistence import conversation_store, user_from_header
from chatui.turns import turns_from

_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclasses.dataclass
class ConversationRow:
    id: str = ""
    title: str = ""
    updated: str = ""


class ConversationsMixin(rx.State, mixin=True):
    user_id: str = rx.LocalStorage("", name="chatui_user")  # this browser's own identity
    conversation_id: str = ""
    conversation_title: str = ""
    conversations: list[ConversationRow] = []
    search_query: str = ""

    # -- identity ----------------------------------------------------------------------------------

    def _user(self) -> str:
        headers = dict(self.router.headers.raw_headers)
        user = user_from_header(headers, get_settings())
        if user is not None:
            return user
        if not self.user_id:
            self.user_id = uuid.uuid4().hex
        return self.user_id

    # -- the sidebar -------------------------------------------------------------------------------

    @rx.event
    async def refresh_conversations(self):
        await self._load_list()

    async def _load_list(self) -> None:
        try:
            found = await conversation_store().list_conversations(
                self._user(), self.search_query.strip() or None, limit=100
            )
        except ChatUIError as exc:
            self.notice = exc.message  # type: ignore[attr-defined]
            return
        self.conversations = [
            ConversationRow(c.id, c.title, c.updated_at.strftime("%b %d, %H:%M")) for c in found
        ]

    @rx.event
    async def search_conversations(self, query: str):
        self.search_query = query[:200]
        return type(self).refresh_conversations

    @rx.event
    async def new_chat(self):
        if await self._answering():  # type: ignore[attr-defined]
            return
        self.conversation_id, self.conversation_title = "", ""
        self.turns, self.notice = [], ""  # type: ignore[attr-defined]
        return rx.set_focus("composer")

    @rx.event
    async def open_conversation(self, conversation_id: str):
        if await self._answering():  # type: ignore[attr-defined]
            return
        try:
            detail = await conversation_store().get_conversation(self._user(), conversation_id)
        except ChatUIError as exc:
            await self._recover(exc)
            return
        self._show(detail)

    @rx.event
    async def rename_conversation(self, form_data: dict[str, Any]):
        title = str(form_data.get("title", "")).strip()
        if not self.conversation_id or not title:
            return
        try:
            renamed = await conversation_store().rename_conversation(self._user(), self.conversation_id, title)
        except ChatUIError as exc:
            await self._recover(exc)
            return
        self.conversation_title = renamed.title
        return type(self).refresh_conversations

    @rx.event
    async def delete_conversation(self, conversation_id: str):
        try:
            await conversation_store().delete_conversation(self._user(), conversation_id)
        except ChatUIError as exc:
            self.notice = exc.message  # type: ignore[attr-defined]
        if conversation_id == self.conversation_id:
            self.conversation_id, self.conversation_title, self.turns = "", "", []  # type: ignore[attr-defined]
        return type(self).refresh_conversations

    @rx.event
    async def export_conversation(self, fmt: str):
        if not self.conversation_id:
            return
        store, user = conversation_store(), self._user()
        try:
            if fmt == "json":
                data = await store.export_json(user, self.conversation_id)
            else:
                data = await store.export_markdown(user, self.conversation_id)
        except ChatUIError as exc:
            await self._recover(exc)
            return
        name = _FILE_NAME.sub("-", self.conversation_title or "conversation").strip("-")[:60] or "conversation"
        return rx.download(data=data, filename=f"{name}.{'json' if fmt == 'json' else 'md'}")

    # -- actions on stored turns --------------------------------------------------------------------

    @rx.event
    async def rate_answer(self, message_id: str, rating: str):
        try:
            await conversation_store().set_feedback(self._user(), message_id, rating)  # type: ignore[arg-type]
        except ChatUIError as exc:
            self.notice = exc.message  # type: ignore[attr-defined]
            return
        for turn in self.turns:  # type: ignore[attr-defined]
            if turn.id == message_id:
                turn.rating = rating
        self.turns = list(self.turns)  # type: ignore[attr-defined]

    @rx.event
    async def comment_answer(self, form_data: dict[str, Any]):
        message_id, rating = str(form_data.get("message_id", "")), str(form_data.get("rating", "down"))
        comment = str(form_data.get("comment", "")).strip() or None
        try:
            await conversation_store().set_feedback(self._user(), message_id, rating, comment)  # type: ignore[arg-type]
        except ChatUIError as exc:
            self.notice = exc.message  # type: ignore[attr-defined]
            return
        self.notice = "Thanks for the feedback."  # type: ignore[attr-defined]

    @rx.event
    async def show_alternative(self, message_id: str):
        if not message_id or await self._answering():  # type: ignore[attr-defined]
            return
        try:
            detail = await conversation_store().select_alternative(self._user(), message_id)
        except ChatUIError as exc:
            await self._recover(exc)
            return
        self._show(detail)

    # -- helpers --------------------------------------------------------------------------------

    def _show(self, detail: ConversationDetail) -> None:
        self.conversation_id = detail.conversation.id
        self.conversation_title = detail.conversation.title
        self.turns = turns_from(detail)  # type: ignore[attr-defined]
        self.notice = ""  # type: ignore[attr-defined]

    async def _reload(self) -> None:
        detail = await conversation_store().get_conversation(self._user(), self.conversation_id)
        self._show(detail)

    async def _recover(self, exc: ChatUIError) -> None:
        """A conversation that vanished or changed elsewhere: say so, and show what is true now."""
        if isinstance(exc, ConversationNotFound):
            self.conversation_id, self.conversation_title, self.turns = "", "", []  # type: ignore[attr-defined]
            self.notice = "That conversation no longer exists (deleted, perhaps in another tab)."  # type: ignore[attr-defined]
            await self._load_list()
        elif isinstance(exc, ConversationConflict):
            try:
                await self._reload()
            except ChatUIError as again:
                self.notice = again.message  # type: ignore[attr-defined]
                return
            self.notice = "This conversation changed in another tab; here is its latest state."  # type: ignore[attr-defined]
        else:
            self.notice = exc.message  # type: ignore[attr-defined]

    @rx.event
    async def reload_conversation(self):
        if self.conversation_id:
            try:
                await self._reload()
            except ChatUIError as exc:
                await self._recover(exc)
