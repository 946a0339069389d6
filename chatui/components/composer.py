"""The composer: Enter sends, Shift+Enter is a new line, Send becomes Stop while an answer streams."""

from __future__ import annotations

import reflex as rx

from chatui.live_answer import LiveAnswer
from chatui.state import ChatState


def composer() -> rx.Component:
    return rx.form(
        rx.el.div(
            rx.text_area(
                id="composer",
                name="question",
                placeholder="Ask about your docs…  (Enter to send, Shift+Enter for a new line)",
                auto_focus=True,
                enter_key_submit=True,
                rows="2",
                resize="vertical",
                aria_label="Your question",
                data_testid="composer",
                class_name="composer-input",
            ),
            rx.cond(
                LiveAnswer.streaming,
                rx.button(
                    rx.icon("square", size=14),
                    "Stop",
                    type="button",
                    color_scheme="red",
                    on_click=ChatState.stop,
                    aria_label="Stop the answer (Esc)",
                    data_testid="stop",
                ),
                rx.button(rx.icon("arrow-up", size=16), "Send", type="submit", data_testid="send"),
            ),
            class_name="composer-row",
        ),
        rx.el.div(
            rx.el.label("Knowledge base", html_for="kb-select", class_name="field-label"),
            rx.el.select(
                rx.foreach(ChatState.collections, lambda name: rx.el.option(name, value=name)),
                value=ChatState.collection,
                on_change=ChatState.choose_collection,
                id="kb-select",
                name="collection",  # named so the form never submits it by id (deprecated in Reflex 0.10.1)
                class_name="kb-select",
                data_testid="kb-select",
            ),
            class_name="composer-meta",
        ),
        rx.cond(ChatState.notice != "", rx.el.p(ChatState.notice, class_name="notice", role="alert")),
        on_submit=ChatState.ask,
        reset_on_submit=False,  # cleared by the handler once the question is accepted
        class_name="composer",
    )
