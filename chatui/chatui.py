"""The Reflex app: the chat page and the HTTP API on one port. Nothing else belongs here."""

import reflex as rx

from chatui.api import create_api
from chatui.components.page import chat_page

app = rx.App(api_transformer=create_api(), stylesheets=["/chat.css", "/markdown.css"])
app.add_page(chat_page, route="/", title="chatui")
