"""The offline model: extractive, cited, honest when the docs do not cover the question."""

from __future__ import annotations

import asyncio
import re

from chatui.events import TokenEvent, UsageEvent
from chatui.providers import Finish
from chatui.providers.base import ChatMessage, GenerationRequest
from chatui.providers.offline import NOTHING_FOUND, OfflineProvider, compose_answer
from chatui.retrieval.passage import Passage

INSTALL = Passage(
    chunk_id="a",
    source="docs/install.md",
    title="Installing Quillmate > With pip",
    text=(
        "## With pip\n\nThe quickest way to install the client is from PyPI:\n\n"
        "```bash\npython -m pip install quillmate\n```\n\n"
        "If you manage tools with pipx, `pipx install quillmate` keeps it isolated."
    ),
    score=0.6,
)
SYNC = Passage(
    chunk_id="b",
    source="docs/sync.md",
    title="Syncing > Conflicts",
    text="When two people edit the same note, Quillmate keeps both versions and marks a conflict.",
    score=0.3,
)
OLLAMA = Passage(
    chunk_id="c",
    source="docs/providers.md",
    title="Using OpenAI-compatible servers > Ollama",
    text="## Ollama\n\n```bash\nOPENAI_BASE_URL=http://localhost:11434/v1\n```",
    score=0.5,
)


def request(question: str, *passages: Passage) -> GenerationRequest:
    return GenerationRequest(
        question=question,
        system="system",
        messages=(ChatMessage("user", question),),
        passages=passages,
    )


def test_offline_answer_quotes_the_relevant_sentences_with_markers():
    text = compose_answer("How do I install Quillmate with pip?", [INSTALL, SYNC])
    assert "The quickest way to install the client is from PyPI [1]." in text
    assert "python -m pip install quillmate" in text, "the code block a sentence introduces comes along"
    assert "conflict" not in text
    assert set(re.findall(r"\[(\d+)\]", text)) <= {"1", "2"}


def test_offline_answer_cites_the_passage_each_sentence_comes_from():
    text = compose_answer("What happens when two people edit the same note?", [INSTALL, SYNC])
    assert "keeps both versions and marks a conflict [2]." in text


def test_offline_answer_uses_a_code_block_whose_heading_matches():
    text = compose_answer("How do I use Ollama?", [OLLAMA, SYNC])
    assert text.startswith("Ollama [1]:")
    assert "localhost:11434" in text


def test_offline_answer_says_it_found_nothing_instead_of_guessing():
    assert compose_answer("What is the boiling point of mercury?", [INSTALL, SYNC]) == NOTHING_FOUND
    assert compose_answer("How do I install it?", []) == NOTHING_FOUND
    assert compose_answer("???", [INSTALL]) == NOTHING_FOUND


def test_offline_answer_closes_a_code_fence_cut_off_by_chunking():
    cut = Passage("d", "docs/x.md", "Setup", "Run the setup script:\n\n```bash\n./setup.sh --all", 0.5)
    text = compose_answer("How do I run the setup script?", [cut])
    assert text.count("```") == 2


async def test_offline_provider_streams_the_answer_word_by_word():
    provider = OfflineProvider(tokens_per_s=0)
    events = [e async for e in provider.stream(request("How do I install Quillmate?", INSTALL))]
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert len(tokens) > 10
    assert "".join(tokens) == compose_answer("How do I install Quillmate?", [INSTALL])
    usage = events[-2]
    assert isinstance(usage, UsageEvent) and usage.estimated and usage.output_tokens == len(tokens)
    assert events[-1] == Finish("stop")


async def test_offline_provider_paces_tokens_at_the_configured_rate():
    provider = OfflineProvider(tokens_per_s=200)
    loop = asyncio.get_running_loop()
    started = loop.time()
    tokens = [e async for e in provider.stream(request("How do I install Quillmate?", INSTALL))]
    words = sum(isinstance(e, TokenEvent) for e in tokens)
    # The i-th token is due i/200 s after the start: the whole answer cannot arrive sooner.
    assert loop.time() - started >= (words - 1) / 200


def test_offline_provider_labels_itself_honestly():
    assert "no LLM" in OfflineProvider().label
