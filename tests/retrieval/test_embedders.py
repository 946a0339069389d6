"""HashingEmbedder: deterministic, unit-length, and closer for texts sharing meaningful words."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from chatui.retrieval.embedders import Embedder, HashingEmbedder, stem

TEXTS = [
    "How do I install Quillmate with pip?",
    "Installing Quillmate: run python -m pip install quillmate",
    "Sync times out after 30 seconds behind the firewall",
    "Προσθήκη σημειώσεων στο σημειωματάριο",  # non-Latin words are words too
    "",
    "the of and to",  # only stopwords
    "``` {} [] ```",  # only punctuation
]


def _cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


def test_hashing_embedder_is_an_embedder_with_versioned_name():
    embedder = HashingEmbedder()
    assert isinstance(embedder, Embedder)
    assert embedder.name == "hashing-v1-1024"
    assert HashingEmbedder(256).name == "hashing-v1-256"
    assert HashingEmbedder(bigram_weight=0.5).name != embedder.name


def test_hashing_embedder_returns_unit_vectors_of_its_dimensions_even_for_empty_text():
    embedder = HashingEmbedder(512)
    vectors = np.array(embedder.embed(TEXTS))
    assert vectors.shape == (len(TEXTS), 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


def test_hashing_embedder_is_deterministic_across_instances_and_batches():
    one, two = HashingEmbedder(), HashingEmbedder()
    batch = one.embed(TEXTS)
    singles = [two.embed([text])[0] for text in TEXTS]
    assert np.allclose(batch, singles, atol=1e-6)
    assert one.embed([]) == []


def test_hashing_embedder_is_deterministic_across_processes_with_different_hash_seeds():
    code = (
        "from chatui.retrieval.embedders import HashingEmbedder;"
        "print(HashingEmbedder().embed(['Install Quillmate with pip on macOS'])[0][:1024])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_hashing_embedder_output_is_pinned():
    """If this fails, vectors changed: bump HashingEmbedder.version, then update the expectation."""
    text = "Installing Quillmate with pip, then installing again."
    vector = np.array(HashingEmbedder().embed([text])[0])
    nonzero = [(int(i), round(float(vector[i]), 4)) for i in np.flatnonzero(vector)]
    assert nonzero == [
        (142, -0.3574),
        (147, -0.2502),
        (270, 0.2502),
        (275, 0.3574),
        (322, -0.6052),
        (479, 0.2502),
        (729, -0.3574),
        (865, -0.2502),
    ]


def test_hashing_embedder_places_similar_texts_closer_than_unrelated_ones():
    embedder = HashingEmbedder()
    question, answer, unrelated = embedder.embed(TEXTS[:3])
    assert _cosine(question, answer) > 0.3
    assert _cosine(question, answer) > _cosine(question, unrelated) + 0.2


def test_hashing_embedder_ignores_case_stopwords_and_word_forms():
    embedder = HashingEmbedder()
    a, b = embedder.embed(["Configure the proxy settings", "configuring PROXY setting"])
    assert _cosine(a, b) > 0.99


def test_hashing_embedder_word_order_matters_through_bigrams():
    embedder = HashingEmbedder()
    same, swapped, reordered = embedder.embed(
        ["delete notes from server", "delete notes from server", "server notes delete"]
    )
    assert _cosine(same, swapped) == pytest.approx(1.0)
    assert 0.3 < _cosine(same, reordered) < 0.9


def test_hashing_embedder_splits_identifiers_on_underscores():
    embedder = HashingEmbedder()
    key, words = embedder.embed(["timeout_seconds", "timeout seconds"])
    assert _cosine(key, words) > 0.99


def test_hashing_embedder_rejects_a_bare_string():
    with pytest.raises(TypeError, match="sequence of texts"):
        HashingEmbedder().embed("one text")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (("install", "installs", "installing", "installed", "installation"), "install"),
        (("configure", "configuring", "configured", "configuration"), "configur"),
        (("sync", "syncs", "syncing", "synced"), "sync"),
        (("status", "process"), None),  # "-us" and "-ss" words keep their "s"
    ],
)
def test_stem_maps_word_forms_together(forms: tuple[str, ...], expected: str | None):
    stems = {stem(f) for f in forms}
    if expected is None:
        assert stems == set(forms)
    else:
        assert stems == {expected}
