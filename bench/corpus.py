"""The answers the fake upstream streams: realistic Markdown, one word (or newline) per token,
with marker words whose arrival the browser probe and the SSE clients timestamp.

A marker is the word `zqNNNNNx` (NNNNN = the token's index): one upstream token, plain text for
every Markdown renderer (no formatting can split it), unique in the page. Token 0 and the last
token are always markers, and about every `marker_every` tokens there is one more.
What must stay true: `answer_tokens(n)` has exactly n tokens and is deterministic; markers are
word tokens, never structure (newlines, fences, list bullets), so the Markdown shape is the same
with or without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MARKER = re.compile(r"zq(\d{5})x")
_WORDS = (
    "the index keeps every chunk of your docs with its source path so an answer can cite it and "
    "a reader can check the passage chatui streams each token as soon as the model sends it while "
    "finished blocks are rendered once on the server and never again"
).split()
_CODE = [
    "def answer(question, history):", "    passages = store.search(question, k=5)",
    "    prompt = build_prompt(question, passages)", "    for token in model.stream(prompt):",
    "        yield token", "", "result = list(answer(\"How do I install?\", []))",
]


def marker(index: int) -> str:
    return f"zq{index:05d}x"


def _shape() -> Iterator[tuple[str, bool]]:
    """An endless answer as (token, is_word): paragraph, heading, list, paragraph, code, ..."""
    word = 0

    def words(count: int) -> Iterator[tuple[str, bool]]:
        nonlocal word
        for i in range(count):
            yield ("" if i == 0 else " ") + _WORDS[word % len(_WORDS)], True
            word += 1

    while True:
        yield from words(60)
        yield ".\n\n", False
        yield "## ", False
        yield from words(4)
        yield "\n\n", False
        for _ in range(3):
            yield "- ", False
            yield from words(12)
            yield "\n", False
        yield "\n", False
        yield from words(40)
        yield ".\n\n", False
        yield "```python\n", False
        for line in _CODE:
            for i, piece in enumerate(line.split(" ")):
                yield ("" if i == 0 else " ") + piece, piece.isidentifier()
            yield "\n", False
        yield "```\n\n", False


def answer_tokens(n: int, marker_every: int = 100, base: int = 0) -> list[str]:
    """The first n tokens of the answer, with markers (see the module docstring). Marker numbers
    are `base + index`: answers streamed at once to several pages get distinct bases."""
    if n < 1:
        raise ValueError("an answer has at least one token")
    shape = _shape()
    tokens: list[str] = []
    next_marker = 0
    for index in range(n):
        text, is_word = next(shape)
        last = index == n - 1
        if last or (is_word and index >= next_marker):
            lead = " " if text.startswith(" ") else ""
            text = lead + marker(base + index)
            if last and not is_word:  # the answer ends on a word of its own
                text = " " + marker(base + index)
            next_marker = index + marker_every
        tokens.append(text)
    return tokens


def marker_indexes(tokens: list[str]) -> list[int]:
    return [i for i, t in enumerate(tokens) if MARKER.search(t)]
