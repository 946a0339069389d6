"""The offline model: answers from the retrieved passages alone, with no key and no network.

It is not a language model and says so (`label`). It picks the sentences (and the code blocks they
introduce) that share the most rare words with the question, keeps them in the documents' order,
marks each with its passage's citation number, and streams the result word by word at a simulated
model speed (CHATUI_OFFLINE_TOKENS_PER_S, default 40; 0 streams as fast as the consumer reads).
What must stay true: when no passage shares a meaningful word with the question, it says it found
nothing instead of inventing an answer; pacing is scheduled against the start time, so a slow
consumer does not make it drift, and every token yields to the event loop.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from chatui.config import Settings
from chatui.events import TokenEvent, UsageEvent
from chatui.providers.base import (
    Finish,
    GenerationRequest,
    ProviderEvent,
    estimate_tokens,
)
from chatui.retrieval.passage import Passage
from chatui.retrieval.text import terms

NOTHING_FOUND = (
    "I couldn't find this in the docs, so I won't guess. Try rephrasing the question, or add the "
    "documents that cover it with `chatui ingest PATH`."
)
MAX_ANSWER_WORDS = 140
MAX_UNITS = 4

_FENCE = re.compile(r"^(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*\[(])")
_WORD = re.compile(r"\S+\s*")
_LIST_ITEM = re.compile(r"^([-*]|\d+\.)\s+")


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence, list item or code block of one passage."""

    marker: int
    order: int
    text: str
    is_code: bool


class OfflineProvider:
    name = "offline"
    model = "extractive"
    label = "Offline model (extractive answers from your docs, no LLM)"

    def __init__(self, tokens_per_s: float = 40.0):
        self.tokens_per_s = tokens_per_s

    async def aclose(self) -> None:
        """Nothing to close: the offline model holds no connection."""

    @classmethod
    def from_settings(cls, settings: Settings, model: str | None = None) -> OfflineProvider:
        return cls(settings.offline_tokens_per_s)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[ProviderEvent]:
        text = compose_answer(request.question, request.passages)
        words = _WORD.findall(text)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, word in enumerate(words):
            due = start + index / self.tokens_per_s if self.tokens_per_s else 0.0
            await asyncio.sleep(max(0.0, due - loop.time()))
            yield TokenEvent(text=word)
        prompt = request.system + "".join(m.content for m in request.messages)
        yield UsageEvent(
            input_tokens=estimate_tokens(prompt), output_tokens=len(words), estimated=True
        )
        yield Finish("stop")


def compose_answer(question: str, passages: Sequence[Passage]) -> str:
    """The extractive answer, in Markdown, with `[n]` markers naming the passages it quotes.

    A unit scores by the rare question words it shares with the question, counting the words of
    its passage's heading trail too (a code block under "Ollama" answers "How do I use Ollama?").
    Units far below the best are dropped; the rest are grouped by passage, best passage first,
    each group in document order.
    """
    wanted = set(terms(question))
    units = [unit for marker, p in enumerate(passages, 1) for unit in _units(marker, p.text)]
    if not wanted or not units:
        return NOTHING_FOUND
    title_terms = {marker: set(terms(p.title)) for marker, p in enumerate(passages, 1)}
    document_frequency = Counter(t for u in units for t in set(terms(u.text)))
    document_frequency.update(t for words in title_terms.values() for t in words)
    weight = {t: math.log(1 + len(units) / (1 + document_frequency[t])) for t in wanted}
    # Retrieval already judged each passage as a whole (heading included): trust it a good deal.
    top_score = max(p.score for p in passages) or 1.0
    trust = {m: 0.4 + 0.6 * p.score / top_score for m, p in enumerate(passages, 1)}

    scores: dict[int, float] = {}
    for index, unit in enumerate(units):
        in_text = wanted.intersection(terms(unit.text))
        if not in_text and not (unit.is_code and wanted & title_terms[unit.marker]):
            continue  # a unit must share a word with the question (code: or its heading must)
        in_title = (wanted & title_terms[unit.marker]) - in_text
        matched = sum(weight[t] for t in in_text) + sum(weight[t] for t in in_title)
        length = 12 if unit.is_code else len(unit.text.split())  # a code block counts as a line
        scores[index] = trust[unit.marker] * matched / math.sqrt(length + 4) + 0.01 / unit.marker
    if not scores:
        return NOTHING_FOUND

    best = max(scores.values())
    chosen: set[int] = set()
    seen_texts: set[str] = set()
    words = 0
    for index in sorted(scores, key=scores.__getitem__, reverse=True):
        if len(chosen) >= MAX_UNITS or words >= MAX_ANSWER_WORDS or scores[index] < 0.5 * best:
            break
        if units[index].text in seen_texts:
            continue
        seen_texts.add(units[index].text)
        chosen.add(index)
        words += len(units[index].text.split())
        following = index + 1  # a sentence that introduces a code block brings the block along
        if following < len(units) and units[following].is_code:
            if units[following].marker == units[index].marker:
                chosen.add(following)

    passage_rank = {}
    for index in sorted(chosen, key=lambda i: scores.get(i, 0.0), reverse=True):
        passage_rank.setdefault(units[index].marker, len(passage_rank))
    ordered = sorted(chosen, key=lambda i: (passage_rank[units[i].marker], units[i].order))
    headings = {m: p.title.rsplit(" > ", 1)[-1] for m, p in enumerate(passages, 1)}
    return _render([units[i] for i in ordered], headings)


def _units(marker: int, text: str) -> list[_Unit]:
    """Split a passage into sentences, list items and whole code blocks, in order."""
    units: list[_Unit] = []
    block: list[str] = []
    in_code = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            block.append(line)
            if in_code:
                units.append(_Unit(marker, len(units), "\n".join(block), True))
                block = []
            else:
                units.extend(_prose(marker, len(units), block[:-1]))
                block = [line]
            in_code = not in_code
        elif in_code:
            block.append(line)
        elif not line.strip() or line.lstrip().startswith(("#", "- ", "* ", "1. ")):
            units.extend(_prose(marker, len(units), block))
            block = [] if line.lstrip().startswith("#") or not line.strip() else [line]
        else:
            block.append(line)
    if in_code:  # an unclosed fence at the end of a chunk: keep what there is, closed
        units.append(_Unit(marker, len(units), "\n".join([*block, "```"]), True))
    else:
        units.extend(_prose(marker, len(units), block))
    return units


def _prose(marker: int, start: int, lines: list[str]) -> list[_Unit]:
    """Sentences of a paragraph; a list item stays whole (its sentences lean on each other)."""
    paragraph = " ".join(line.strip() for line in lines).strip()
    if not paragraph:
        return []
    if _LIST_ITEM.match(paragraph):
        return [_Unit(marker, start, _LIST_ITEM.sub("", paragraph), False)]
    return [
        _Unit(marker, start + i, sentence, False)
        for i, sentence in enumerate(_SENTENCE_END.split(paragraph))
        if sentence.strip()
    ]


def _render(units: list[_Unit], headings: dict[int, str]) -> str:
    parts: list[str] = []
    previous: _Unit | None = None
    for unit in units:
        if not unit.is_code:
            parts.append(_cite(unit.text, unit.marker))
        else:
            if previous is None or previous.marker != unit.marker:  # a block alone needs a source
                parts.append(f"{headings[unit.marker]} [{unit.marker}]:")
            parts.append(unit.text)
        previous = unit
    return "\n\n".join(parts)


def _cite(sentence: str, marker: int) -> str:
    """Put the citation marker before the sentence's final punctuation: "Run it [1]."."""
    sentence = sentence.rstrip()
    if sentence.endswith(":"):
        sentence = sentence[:-1] + "."
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} [{marker}]{sentence[-1]}"
    return f"{sentence} [{marker}]"
