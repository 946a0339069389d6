"""What a person can do with a stored turn: edit a question, regenerate an answer and flip between
its alternatives, copy, and give feedback (thumbs up/down with an optional comment).

Editing, regenerating and flipping wait while an answer is in flight: they are in `while_idle`,
the only part of a turn that reads `LiveAnswer` (the handlers check again on the server).
"""

from __future__ import annotations

import reflex as rx

from chatui.live_answer import LiveAnswer
from chatui.state import ChatState, Turn


@rx.memo
def while_idle(children: rx.Var[rx.Component]) -> rx.Component:
    """Its buttons are disabled while an answer is in flight. A component of its own, so that when
    an answer starts or ends only it re-renders, not the conversation around it (see LiveAnswer)."""
    return rx.el.fieldset(children, disabled=LiveAnswer.streaming, class_name="while-idle")


def edit_form(turn: Turn) -> rx.Component:
    return rx.el.form(
        rx.text_area(name="question", default_value=turn.content, auto_focus=True, enter_key_submit=True,
                     aria_label="Edit your question", data_testid="edit-box"),
        rx.el.input(type="hidden", name="turn_id", value=turn.id),
        rx.flex(
            rx.button("Cancel", type="button", size="1", variant="soft", color_scheme="gray",
                      on_click=ChatState.cancel_edit),
            rx.button("Send", type="submit", size="1", data_testid="edit-send"),
            gap="2",
            justify="end",
            margin_top="0.4rem",
        ),
        on_submit=ChatState.edit_question,
        class_name="edit-form",
    )


def question_actions(turn: Turn) -> rx.Component:
    return rx.el.div(
        while_idle(
            alternatives(turn, "version"),
            rx.cond(turn.stored, _edit_button(on_click=ChatState.start_edit(turn.id), data_testid="edit")),
        ),
        class_name="user-actions",
    )


def question_actions_in_flight() -> rx.Component:
    """The question being answered has the row its stored turn will have (editing waits for the
    answer), so nothing below it moves when it joins the turns."""
    return rx.el.div(_edit_button(disabled=True), class_name="user-actions")


def _edit_button(**props) -> rx.Component:
    return rx.icon_button(rx.icon("pencil", size=12), size="1", variant="ghost", color_scheme="gray",
                          aria_label="Edit and resend", **props)


def alternatives(turn: Turn, kind: str) -> rx.Component:
    """‹ 2 / 3 ›: flip between the answers a regenerate produced (or a question's versions)."""
    count = turn.alternatives.length()  # type: ignore[attr-defined]
    return rx.cond(
        count > 1,
        rx.el.span(
            rx.icon_button(rx.icon("chevron-left", size=12), size="1", variant="ghost",
                           disabled=turn.alternative == 0,
                           on_click=ChatState.show_alternative(turn.alternatives[turn.alternative - 1]),
                           aria_label=f"Previous {kind}", data_testid="previous-alternative"),
            rx.el.span(turn.alternative + 1, " / ", count, data_testid="alternative-index"),
            rx.icon_button(rx.icon("chevron-right", size=12), size="1", variant="ghost",
                           disabled=turn.alternative + 1 >= count,
                           on_click=ChatState.show_alternative(turn.alternatives[turn.alternative + 1]),
                           aria_label=f"Next {kind}", data_testid="next-alternative"),
            class_name="alternatives",
        ),
    )


def thumb(turn: Turn, rating: str, icon: str, label: str) -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=13),
        size="1",
        variant=rx.cond(turn.rating == rating, "solid", "ghost"),
        on_click=ChatState.rate_answer(turn.id, rating),
        aria_label=label,
        aria_pressed=rx.cond(turn.rating == rating, "true", "false"),
        data_testid=f"thumbs-{rating}",
    )


def feedback(turn: Turn) -> rx.Component:
    return rx.el.span(
        thumb(turn, "up", "thumbs-up", "Good answer"),
        thumb(turn, "down", "thumbs-down", "Bad answer"),
        rx.cond(
            turn.rating != "",
            rx.popover.root(
                rx.popover.trigger(rx.button("Comment", size="1", variant="ghost", data_testid="comment")),
                rx.popover.content(
                    rx.el.form(
                        rx.text_area(name="comment", placeholder="What was good or wrong? (optional)",
                                     data_testid="comment-box"),
                        rx.el.input(type="hidden", name="message_id", value=turn.id),
                        rx.el.input(type="hidden", name="rating", value=turn.rating),
                        rx.popover.close(rx.button("Send", type="submit", size="1", margin_top="0.5rem",
                                                   data_testid="comment-send")),
                        on_submit=ChatState.comment_answer,
                    ),
                ),
            ),
        ),
        class_name="feedback",
    )


def answer_actions(turn: Turn) -> rx.Component:
    return rx.el.div(
        rx.cond(
            turn.content != "",
            rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="ghost",
                      on_click=rx.set_clipboard(turn.content), aria_label="Copy the answer"),
        ),
        while_idle(
            rx.cond(
                turn.state == "error",
                rx.button(rx.icon("rotate-ccw", size=14), "Retry", size="1", variant="soft",
                          on_click=ChatState.retry(turn.id), data_testid="retry"),
                rx.cond(
                    turn.stored,
                    rx.button(rx.icon("refresh-cw", size=14), "Regenerate", size="1", variant="ghost",
                              on_click=ChatState.retry(turn.id), data_testid="regenerate"),
                ),
            ),
            alternatives(turn, "answer"),
        ),
        rx.cond(turn.stored & (turn.state != "error"), feedback(turn)),
        class_name="answer-actions",
    )
