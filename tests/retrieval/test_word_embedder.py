"""WordLlamaEmbedder: the bundled model loads with no network, vectors are unit-length and stable,
and it sees that different words can mean the same thing (what hashing cannot)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from chatui.config import load_settings
from chatui.retrieval.embedders import Embedder, HashingEmbedder
from chatui.retrieval.remote_embedders import embedder_from_settings
from chatui.retrieval.word_embedder import WordLlamaEmbedder

TEXTS = [
    "How do I install Quillmate with pip?",
    "Installing Quillmate: run python -m pip install quillmate",
    "Προσθήκη σημειώσεων στο σημειωματάριο",
    "",
    "``` {} [] ```",
    "word " * 3000,  # far longer than any chunk: nothing is truncated or padded
]


@pytest.fixture(scope="module")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


def test_word_embedder_is_the_default_and_an_embedder(embedder: WordLlamaEmbedder):
    assert isinstance(embedder, Embedder)
    assert isinstance(embedder_from_settings(load_settings()), WordLlamaEmbedder)
    assert embedder.name == "wordllama-l2_supercat-256-v1"
    assert 0 < embedder.cosine_floor < 0.5


def test_word_embedder_returns_unit_vectors_even_for_empty_text(embedder: WordLlamaEmbedder):
    vectors = np.array(embedder.embed(TEXTS))
    assert vectors.shape == (len(TEXTS), 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()
    assert embedder.embed([]) == []
    with pytest.raises(TypeError):
        embedder.embed("a bare string")  # type: ignore[arg-type]


def test_word_embedder_is_deterministic_across_instances_and_batches(embedder: WordLlamaEmbedder):
    many = [f"note {i}: sync every {i} minutes" for i in range(300)]  # more than one batch
    batch = embedder.embed_array(many + TEXTS)
    singles = np.array([WordLlamaEmbedder().embed([t])[0] for t in many + TEXTS])
    assert np.allclose(batch, singles, atol=1e-5)


def test_word_embedder_output_is_pinned(embedder: WordLlamaEmbedder):
    """If this fails, the vectors changed (a new wordllama?): change `name`, then this number."""
    vector = embedder.embed(["Installing Quillmate with pip, then installing again."])[0]
    assert [round(v, 3) for v in vector[:4]] == pytest.approx(PINNED, abs=2e-3)


PINNED = [-0.068, 0.1, -0.045, -0.073]


def test_word_embedder_matches_synonyms_that_share_no_word(embedder: WordLlamaEmbedder):
    question = "How do I make a slow job stop freezing the interface?"
    answer = "Long-running tasks can run without blocking UI interactivity."
    unrelated = "The database table stores one row per invoice."
    q, a, u = embedder.embed_array([question, answer, unrelated])
    assert float(q @ a) > float(q @ u) + 0.1
    hq, ha, hu = HashingEmbedder().embed_array([question, answer, unrelated])
    assert float(hq @ ha) < 0.1, "hashing sees no shared word: the reason for this embedder"


def test_loading_the_model_leaves_the_process_logging_alone():
    """WordLlama calls logging.basicConfig(level=INFO) at import: left alone, every library's INFO
    records (httpx2 logs one per upstream request) would fill the server's log."""
    probe = (
        "import logging\n"
        "from chatui.retrieval.word_embedder import WordLlamaEmbedder\n"
        "WordLlamaEmbedder().embed(['hello'])\n"
        "import wordllama\n"  # really imported, not skipped
        "root = logging.getLogger()\n"
        "print(logging.getLevelName(root.level), len(root.handlers))\n"
        "logging.getLogger('httpx2').info('HTTP Request: POST http://upstream')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["WARNING", "0"]
    assert "HTTP Request" not in done.stderr + done.stdout
