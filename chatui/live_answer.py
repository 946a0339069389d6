"""The answer in flight as the page shows it: whether there is one, its id, phase, label, sources,
error, whether tokens came.

A Reflex state of its own, apart from `ChatState`, because the browser re-renders every component
that reads a state whenever any of that state's vars changes. The conversation (`ChatState.turns`)
is the page's largest part; if these fields lived beside it, asking, every phase change and source
list would re-render the whole conversation, and the first token would wait for that (measured:
the first token reached the page 10-40 ms late on a page with ten answers, all of it waiting for
the page to finish re-rendering the conversation and the answer's phases). Here they re-render
only the answer in flight, the composer's Send/Stop and the few buttons that wait for the answer
(see `chatui.components.turn_actions.while_idle`).
The live counters change a few times a second, so they are not state at all: they travel with the
answer's text (`chatui.stream_wire`).

What must stay true: `ChatState` starts an answer only when `streaming` is false, and
the conversation (`ChatState`) does not change when an answer starts, only when it ends. The rest
are display fields, folded from pipeline events by `_apply` (private, so that no browser can call
it as an event).
`ChatState` changes them inside its `async with self` blocks (`await self.get_state(LiveAnswer)`).
The answer's text is not here (see `chatui.stream_wire`).
"""

from __future__ import annotations

import reflex as rx

from chatui.events import Event
from chatui.turns import Source, source_for

OUTCOME_STATUS = {
    "done": "Answer complete.",
    "stopped": "Stopped.",
    "error": "The answer failed.",
    "interrupted": "Interrupted.",
}


class LiveAnswer(rx.State):
    streaming: bool = False  # an answer is in flight (there is at most one per tab)
    answer_id: str = ""  # ...and its id, which routes its streamed text (see chatui.stream_wire)
    # The question just asked, shown here until it joins the conversation with its answer: asking
    # must not re-render the conversation either (it would, right before the first token).
    question: str = ""
    phase: str = ""  # retrieval | generating | "" (no answer in flight)
    status: str = ""  # what the aria-live region announces
    label: str = ""  # provider · model
    sources: list[Source] = []
    error: str = ""
    has_tokens: bool = False

    def _begin(self, answer_id: str, question: str = "") -> None:
        self.streaming, self.answer_id = True, answer_id
        self.question = question
        self.phase, self.status = "retrieval", "Searching docs…"
        self.label = self.error = ""
        self.sources = []
        self.has_tokens = False

    def _apply(self, event: Event, anchor_prefix: str) -> None:
        """Fold one non-token pipeline event into what the page shows."""
        match event.kind:
            case "status" if event.phase == "retrieval":
                self.phase, self.status = "retrieval", event.detail
            case "status":
                self.phase, self.label = "generating", event.detail
                found = len(self.sources)
                took = f" in {event.retrieval_ms:.0f} ms" if event.retrieval_ms is not None else ""
                self.status = f"Found {found} source{'s' * (found != 1)}{took}. Generating…"
            case "citation":
                self.sources.append(
                    source_for(anchor_prefix, event.marker, event.source, event.title, event.snippet)
                )
            case "error":
                self.error = event.message

    def _first_token(self) -> None:
        self.has_tokens, self.status = True, "Answering…"

    def _end(self, outcome: str) -> None:
        """The answer is now a turn of the conversation: only the announcement stays."""
        self.streaming = False
        self.phase, self.status = "", OUTCOME_STATUS[outcome]
        self.question = ""
        self.sources = []
