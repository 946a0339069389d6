"""The chat view: the message list, the in-flight answer, sources and the composer.

Pure functions returning components; all behaviour lives in `ChatState`. Text is shown as text
(never as HTML), so nothing a model writes can run in the page.
"""

from __future__ import annotations

import reflex as rx

from chatui.state import ChatState, Source, Turn


def source_chip(source: Source) -> rx.Component:
    return rx.hover_card.root(
        rx.hover_card.trigger(
            rx.badge(
                f"[{source.marker}] ", source.title, variant="soft", data_testid="source"
            ),
        ),
        rx.hover_card.content(
            rx.text(source.source, size="1", weight="bold"),
            rx.text(source.snippet, size="2"),
            max_width="28rem",
        ),
    )


def sources_row(sources: list[Source]) -> rx.Component:
    return rx.flex(rx.foreach(sources, source_chip), wrap="wrap", gap="2", data_testid="sources")


def answer_text(text: rx.Var[str]) -> rx.Component:
    return rx.text(text, white_space="pre-wrap", as_="div")


def message(turn: Turn) -> rx.Component:
    return rx.cond(
        turn.role == "user",
        rx.box(
            answer_text(turn.content),
            class_name="bubble user",
            data_testid="message",
            data_role="user",
            data_state="done",
        ),
        rx.box(
            rx.text(turn.label, size="1", color_scheme="gray"),
            sources_row(turn.sources),
            answer_text(turn.content),
            rx.cond(turn.state == "stopped", rx.text("stopped", size="1", color_scheme="amber")),
            rx.cond(
                turn.error != "",
                rx.callout(turn.error, color_scheme="red", data_testid="error"),
            ),
            rx.text(turn.stats, size="1", color_scheme="gray"),
            class_name="bubble assistant",
            data_testid="message",
            data_role="assistant",
            data_state=turn.state,
        ),
    )


def streaming_answer() -> rx.Component:
    return rx.cond(
        ChatState.streaming,
        rx.box(
            rx.text(ChatState.answer_label, size="1", color_scheme="gray"),
            rx.hstack(
                rx.cond(ChatState.phase == "retrieval", rx.spinner(size="1")),
                rx.text(ChatState.status, size="1"),
                data_testid="status",
                role="status",
                aria_live="polite",
            ),
            sources_row(ChatState.answer_sources),
            rx.box(
                answer_text(ChatState.answer_text),
                rx.el.span(class_name="cursor", data_testid="cursor"),
            ),
            rx.cond(
                ChatState.answer_error != "",
                rx.callout(ChatState.answer_error, color_scheme="red", data_testid="error"),
            ),
            class_name="bubble assistant",
            data_testid="message",
            data_role="assistant",
            data_state="streaming",
        ),
    )


def composer() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.text_area(
                name="question",
                placeholder="Ask about your docs…",
                auto_focus=True,
                enter_key_submit=True,
                reset_on_submit=True,
                width="100%",
                data_testid="composer",
            ),
            rx.cond(
                ChatState.streaming,
                rx.button("Stop", type="button", on_click=ChatState.stop, color_scheme="red",
                          data_testid="stop"),
                rx.button("Send", type="submit", data_testid="send"),
            ),
            width="100%",
        ),
        rx.cond(ChatState.notice != "", rx.text(ChatState.notice, color_scheme="red", size="2")),
        on_submit=ChatState.ask,
        reset_on_submit=True,
        width="100%",
    )


def chat_page() -> rx.Component:
    return rx.container(
        rx.vstack(
            rx.heading("chatui", size="6"),
            rx.text("Ask questions about your team's docs.", color_scheme="gray"),
            rx.vstack(
                rx.foreach(ChatState.turns, message),
                streaming_answer(),
                width="100%",
                role="log",
                aria_busy=ChatState.streaming,
                data_testid="messages",
            ),
            composer(),
            width="100%",
            spacing="4",
            padding_y="6",
        ),
        size="3",
    )
