"""The Reflex app: the chat page and the HTTP API on one port. Nothing else belongs here."""

import reflex as rx

from chatui.api import create_api
from chatui.components.chat import chat_page

app = rx.App(
    api_transformer=create_api(),
    stylesheets=["/chat.css"],
    theme=rx.theme(appearance="inherit", accent_color="indigo"),
)
app.add_page(chat_page, route="/", title="chatui")
