"""Conversations that survive: every question, answer and verdict is stored as it happens.

    store = ConversationStore.from_settings()   # CHATUI_DATABASE_URL, or SQLite in the data dir
    await store.mark_interrupted_streams()       # at server start
    conversation = await store.create_conversation(user)
    question = await store.add_user_message(user, conversation.id, "How do I install chatui?")
    answer = await store.start_assistant_message(user, conversation.id, question, "offline", "m")
    await store.update_assistant_message(user, answer, text_so_far)      # ~once a second
    await store.finish_assistant_message(user, answer, state="complete", content=text, ...)

The branching model. Messages form a tree through `parent_id`: a question's parent is the answer
before it (None for the first question); an answer's parent is the question it answers. Messages
with the same parent are alternatives of each other, and in each such group exactly one is active.
The active path (what the person sees) starts at the active first question and follows the active
child of each message down to the end.

- Regenerate: `start_assistant_message` again for the same question. The new answer is a sibling
  of the old one and becomes active; `list_alternatives` / `select_alternative` flip between them.
- Edit and resend: `edit_user_message` stores the new text as a sibling of the old question and
  makes it active; the old question and its whole branch (answers, later turns) stay stored and
  can be selected again. Then start an answer to the new question as usual.
- Selecting any message makes every message on its way to the root active, so the path follows it.

Users are opaque ids (`LOCAL_USER` on a single-person install); every method is scoped to one and
raises the same not-found error for someone else's data as for data that does not exist. Deleting
is for good. Modules: `store` (the class: conversations, search, exports) built from `base`
(engine, migrate, close), `messages` (questions, streaming answers) and `alternatives` (regenerate,
edit, feedback); `branches` (the pure tree logic), `rows` (user-scoped lookups, tree writes, row to
value), `schema` + `migrations/` (Alembic, applied at first use), `database` (engine, WAL,
locking), `export` (Markdown and versioned JSON), `values` (what crosses the boundary).
"""

from chatui.conversations.errors import ConversationConflict, ConversationNotFound, MessageNotFound
from chatui.conversations.export import EXPORT_VERSION, detail_from_json
from chatui.conversations.store import ConversationStore
from chatui.conversations.values import (
    DEFAULT_TITLE,
    LOCAL_USER,
    Citation,
    Conversation,
    ConversationDetail,
    Feedback,
    FinishedState,
    Message,
    MessageState,
    Rating,
    Role,
    Usage,
    finished_state,
    title_from_question,
)

__all__ = [
    "DEFAULT_TITLE",
    "EXPORT_VERSION",
    "LOCAL_USER",
    "Citation",
    "Conversation",
    "ConversationConflict",
    "ConversationDetail",
    "ConversationNotFound",
    "ConversationStore",
    "Feedback",
    "FinishedState",
    "Message",
    "MessageNotFound",
    "MessageState",
    "Rating",
    "Role",
    "Usage",
    "detail_from_json",
    "finished_state",
    "title_from_question",
]
