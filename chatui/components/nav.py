"""The header shared by the pages: the name, navigation and the theme switch."""

from __future__ import annotations

import reflex as rx


def header() -> rx.Component:
    return rx.el.header(
        rx.el.div(
            rx.icon_button(rx.icon("menu", size=16), variant="ghost", size="2", class_name="sidebar-toggle",
                           on_click=rx.call_script("chatui.toggleSidebar()"), aria_label="Conversations"),
            rx.el.div(rx.heading("chatui", size="4"), rx.text("Chat with your docs", size="2", color_scheme="gray")),
            class_name="brand",
        ),
        rx.el.nav(
            rx.link("Chat", href="/", data_testid="nav-chat"),
            rx.link("Docs", href="/docs", data_testid="nav-docs"),
            rx.color_mode.button(size="2", variant="ghost", aria_label="Switch light or dark theme"),
            class_name="nav",
        ),
        class_name="header",
    )
