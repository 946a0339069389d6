"""The conversation: finished turns, and the answer in flight with its phase, cursor and counters.

Finished answers show HTML rendered on the server by `chatui.rendering` (raw HTML from the model is
escaped there, links are checked): `rx.html` only ever receives that. The answer in flight is an
empty frame that assets/chatui.js fills as updates arrive (its counters too); its phase and sources
read `LiveAnswer` only, so that their updates never re-render the finished turns.
"""

from __future__ import annotations

import reflex as rx

from chatui.components.sources import sources_row
from chatui.components.turn_actions import answer_actions, edit_form, question_actions, question_actions_in_flight
from chatui.live_answer import LiveAnswer
from chatui.state import ChatState, Turn


def counters(tokens, tokens_per_s, ttft, extra: list[rx.Component] | None = None) -> rx.Component:
    return rx.el.div(
        rx.el.span(rx.el.span(tokens, data_testid="token-count"), " tokens"),
        rx.el.span(rx.el.span(tokens_per_s, data_testid="tokens-per-sec"), " tok/s"),
        rx.el.span("first token ", rx.el.span(ttft, data_testid="ttft")),
        *(extra or []),
        class_name="counters",
    )


def user_message(turn: Turn) -> rx.Component:
    return rx.el.div(
        rx.cond(
            ChatState.editing_id == turn.id,
            edit_form(turn),
            rx.el.div(rx.el.div(turn.content, class_name="user-text"), question_actions(turn)),
        ),
        class_name="message user",
        data_testid="message",
        data_role="user",
        data_state="done",
    )


def question_in_flight() -> rx.Component:
    """The question being answered, until it joins the turns with its answer (see LiveAnswer)."""
    return rx.el.div(
        rx.el.div(LiveAnswer.question, class_name="user-text"),
        question_actions_in_flight(),
        class_name="message user",
        data_testid="message",
        data_role="user",
        data_state="done",
    )


def assistant_message(turn: Turn) -> rx.Component:
    return rx.el.div(
        rx.el.div(turn.label, class_name="answer-label"),
        sources_row(turn.sources),
        rx.cond(turn.html != "", rx.html(turn.html, class_name="chatui-md")),
        rx.cond(turn.state == "stopped", rx.el.div("Stopped", class_name="badge-stopped")),
        rx.cond(
            turn.state == "interrupted",
            rx.el.div("Interrupted (the tab closed or the server restarted): regenerate for a full answer.", class_name="badge-stopped"),
        ),
        rx.cond(
            turn.error != "",
            rx.callout(turn.error, icon="triangle_alert", color_scheme="red", data_testid="error"),
        ),
        counters(
            turn.tokens,
            turn.tokens_per_s,
            turn.ttft,
            [rx.el.span(turn.usage), rx.el.span(turn.duration)],
        ),
        answer_actions(turn),
        class_name="message assistant",
        data_testid="message",
        data_role="assistant",
        data_state=turn.state,
    )


def turn_view(turn: Turn) -> rx.Component:
    return rx.cond(turn.role == "user", user_message(turn), assistant_message(turn))


def phase_line() -> rx.Component:
    return rx.el.div(
        rx.cond(~LiveAnswer.has_tokens, rx.spinner(size="1")),
        rx.el.span(LiveAnswer.status),
        class_name="phase",
    )


def answer_in_flight() -> rx.Component:
    return rx.el.div(
        rx.el.div(LiveAnswer.label, class_name="answer-label"),
        rx.cond(~LiveAnswer.has_tokens, phase_line()),
        sources_row(LiveAnswer.sources),
        rx.el.div(
            rx.el.div(class_name="md-frozen"),
            rx.el.div(class_name="md-tail"),
            id="answer-" + LiveAnswer.answer_id,
            class_name="chatui-md streaming",
        ),
        rx.cond(
            LiveAnswer.error != "",
            rx.callout(LiveAnswer.error, icon="triangle_alert", color_scheme="red", data_testid="error"),
        ),
        # Filled by chatui.count() as the answer streams (the counters are not state vars).
        rx.el.div(counters("0", "–", "–"), hidden=~LiveAnswer.has_tokens, class_name="live-counters"),
        class_name="message assistant",
        data_testid="message",
        data_role="assistant",
        data_state="streaming",
        key=LiveAnswer.answer_id,
    )


def message_list() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.cond(
                (ChatState.turns.length() == 0) & ~LiveAnswer.streaming,  # type: ignore[attr-defined]
                rx.el.div(
                    rx.heading("Ask your docs", size="5"),
                    rx.text("Answers come from your team's documents, with their sources.", color_scheme="gray"),
                    class_name="empty",
                ),
            ),
            rx.foreach(ChatState.turns, turn_view),
            rx.cond(LiveAnswer.question != "", question_in_flight()),
            rx.cond(LiveAnswer.streaming, answer_in_flight()),
            class_name="messages-inner",
        ),
        class_name="messages",
        role="log",
        aria_live="off",
        aria_busy=rx.cond(LiveAnswer.streaming, "true", "false"),
        data_testid="messages",
    )


def status_region() -> rx.Component:
    """The phase, announced to screen readers (visually it is shown in the answer itself)."""
    return rx.el.div(LiveAnswer.status, role="status", aria_live="polite", class_name="sr-only", data_testid="status")
