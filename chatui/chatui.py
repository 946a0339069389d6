"""The Reflex app: the chat page and the HTTP API on one port. Nothing else belongs here."""

import reflex as rx

from chatui.api import create_api
from chatui.components.docs_page import docs_page
from chatui.components.page import chat_page
from chatui.docs_state import DocsState
from chatui.persistence import mark_interrupted_answers
from chatui.state import ChatState

app = rx.App(
    api_transformer=create_api(),
    stylesheets=["/chat.css", "/markdown.css"],
    # In the document's head, so that it has run before the page connects (see stream_wire.py).
    head_components=[rx.el.script(src="/chatui.js")],
)
app.register_lifespan_task(mark_interrupted_answers)
app.add_page(chat_page, route="/", title="chatui", on_load=ChatState.on_page_load)
app.add_page(docs_page, route="/docs", title="chatui · Docs", on_load=DocsState.refresh)
