"""The chat page: header, conversation, jump-to-latest, composer."""

from __future__ import annotations

import reflex as rx

from chatui.components.composer import composer
from chatui.components.messages import message_list, status_region
from chatui.components.nav import header
from chatui.components.sidebar import conversation_bar, sidebar


def jump_to_latest() -> rx.Component:
    return rx.button(
        rx.icon("arrow-down", size=14),
        "Jump to latest",
        size="1",
        variant="solid",
        radius="full",
        class_name="jump-latest",
        on_click=rx.call_script("chatui.jumpToLatest()"),
        data_testid="jump-latest",
    )


def chat_page() -> rx.Component:
    return rx.el.div(
        sidebar(),
        rx.el.main(
            header(),
            conversation_bar(),
            message_list(),
            rx.el.div(jump_to_latest(), class_name="jump-row"),
            composer(),
            status_region(),
            class_name="page",
        ),
        class_name="layout",
        # "true" once the page is connected and its state loaded: before that, clicks do nothing
        # (the page is server-rendered HTML until then) and chatui.js holds Enter in the composer
        # until it is. Tests wait for it.
        data_ready=rx.State.is_hydrated,
    )
