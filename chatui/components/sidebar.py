"""The conversation sidebar: new chat, search, conversations by recency, delete with confirmation."""

from __future__ import annotations

import reflex as rx

from chatui.conversations_state import ConversationRow
from chatui.state import ChatState


def delete_button(row: ConversationRow) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="gray",
                           aria_label="Delete conversation", data_testid="delete-conversation"),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this conversation?"),
            rx.alert_dialog.description(rx.text("“", row.title, "” and all its messages will be deleted for good.")),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=ChatState.delete_conversation(row.id),
                              data_testid="confirm-delete"),
                ),
                gap="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
    )


def conversation_link(row: ConversationRow) -> rx.Component:
    return rx.el.div(
        rx.el.button(
            rx.el.span(row.title, class_name="conversation-title"),
            rx.el.span(row.updated, class_name="conversation-when"),
            on_click=ChatState.open_conversation(row.id),
            class_name="conversation-link",
            data_testid="conversation",
            aria_current=rx.cond(row.id == ChatState.conversation_id, "page", "false"),
        ),
        delete_button(row),
        class_name="conversation-row",
    )


def sidebar() -> rx.Component:
    return rx.el.aside(
        rx.button(rx.icon("plus", size=14), "New chat", on_click=ChatState.new_chat, width="100%",
                  variant="soft", data_testid="new-chat", title="New chat (Ctrl+Shift+O)"),
        rx.input(
            placeholder="Search conversations…",
            on_change=ChatState.search_conversations.debounce(250),  # type: ignore[attr-defined]
            size="2",
            aria_label="Search conversations",
            data_testid="search",
        ),
        rx.el.nav(
            rx.foreach(ChatState.conversations, conversation_link),
            class_name="conversation-list",
            data_testid="conversations",
            aria_label="Conversations",
        ),
        class_name="sidebar",
    )


def conversation_bar() -> rx.Component:
    """The open conversation's title (rename by editing it) and its exports."""
    return rx.cond(
        ChatState.conversation_id != "",
        rx.el.div(
            rx.el.form(
                rx.input(name="title", default_value=ChatState.conversation_title, key=ChatState.conversation_id,
                         size="1", variant="soft", aria_label="Conversation title", data_testid="title"),
                on_submit=ChatState.rename_conversation,
                class_name="title-form",
            ),
            rx.button("Markdown", rx.icon("download", size=12), size="1", variant="ghost",
                      on_click=ChatState.export_conversation("md"), data_testid="export-md"),
            rx.button("JSON", rx.icon("download", size=12), size="1", variant="ghost",
                      on_click=ChatState.export_conversation("json"), data_testid="export-json"),
            class_name="conversation-bar",
        ),
    )
