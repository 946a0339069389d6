"""Turn text into vectors for the knowledge base, offline.

Why this exists: Chroma's default embedder downloads an ONNX model the first time it runs, and
chatui must work (and its tests must pass) with no network. `HashingEmbedder` needs nothing but
numpy: words are normalised, unigrams and bigrams are hashed into a fixed number of signed
buckets (the "hashing trick"), weighted by sublinear term frequency and L2-normalised, so cosine
similarity rewards shared vocabulary. It is weaker than a neural model on paraphrases (no synonyms,
no IDF), but it is deterministic, fast and free.

What must stay true:

- Every `Embedder` returns, for each input text, a list of `dimensions` floats of unit L2 norm
  (an input with no words gets a fixed unit vector, never zeros: cosine of a zero vector is NaN).
- The output depends only on the input text and `name`: no randomised `hash()`, no global state.
  Any change that alters a vector (tokeniser, stemmer, stopwords, hashing, weights) must bump the
  version in `name`; the store refuses a collection built with another name, so users re-ingest
  instead of silently searching incomparable vectors. `test_hashing_embedder_output_is_pinned`
  fails when a vector changes, as a reminder. That is why this module keeps its own tokeniser
  rather than sharing `text.terms` (the offline model's): a change there must not silently move
  stored vectors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to unit vectors of a fixed size. `name` identifies the vector space."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


# Letters and digits, any script; "_" separates words so `max_retries` matches "max retries".
_WORD = re.compile(r"[^\W_]+")

_STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has have
    how i if in into is it its itself me my of on or our so than that the their them then there
    these they this those to too was we were what when where which while who whom why will with
    would you your yours""".split()
)

# Crude, ordered suffix rules: (suffix, replacement). The goal is not linguistics but that the
# forms people type ("installing", "installed", "installation") land on the same stem as the docs'.
_SUFFIXES = (
    ("ations", ""),
    ("ation", ""),
    ("ments", ""),
    ("ment", ""),
    ("ingly", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("es", ""),
    ("ed", ""),
    ("ly", ""),
    ("s", ""),
)
_MIN_STEM = 3

_UINT64 = np.uint64
_MIX_A = _UINT64(0x9E3779B97F4A7C15)  # golden-ratio constants, as in splitmix64
_MIX_B = _UINT64(0xBF58476D1CE4E5B9)
_MIX_C = _UINT64(0x94D049BB133111EB)


def unit_rows(vectors: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """`vectors` (float32, one row per text) scaled in place to unit length; an all-zero row (a
    text with nothing to embed) becomes `empty`, so every vector has a direction."""
    norms = np.linalg.norm(vectors, axis=1)
    zero = norms == 0
    vectors[zero] = empty
    norms[zero] = 1.0
    vectors /= norms[:, None]
    return vectors


def stem(word: str) -> str:
    """Strip one common English suffix, then a final "e" ("configure" and "configuring" agree)."""
    if len(word) <= _MIN_STEM or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= _MIN_STEM:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            word = word[: len(word) - len(suffix)] + replacement
            break
    if word.endswith("e") and len(word) > _MIN_STEM:
        word = word[:-1]
    return word


def _finalize(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole word (uint64, wrapping)."""
    x = x ^ (x >> _UINT64(30))
    x = x * _MIX_B
    x = x ^ (x >> _UINT64(27))
    x = x * _MIX_C
    return x ^ (x >> _UINT64(31))


class HashingEmbedder:
    """Feature-hashed unigrams and bigrams with sublinear tf; see the module docstring."""

    version = 1
    # Hashed words collide: among a few thousand chunks, an unrelated question's nearest one has a
    # cosine of 0.1 to 0.2 (see hybrid.py).
    cosine_floor = 0.1

    def __init__(self, dimensions: int = 1024, *, bigram_weight: float = 0.7) -> None:
        if dimensions < 16:
            raise ValueError(f"HashingEmbedder needs at least 16 dimensions, got {dimensions}")
        self.dimensions = dimensions
        self.bigram_weight = bigram_weight
        weight_tag = "" if bigram_weight == 0.7 else f"-b{bigram_weight:g}"
        self.name = f"hashing-v{self.version}-{dimensions}{weight_tag}"
        # word -> 64-bit feature hash of its stem, or None for a stopword. Vocabularies are small
        # (tens of thousands of words), and this cache is what makes embedding fast.
        self._word_hash: dict[str, int | None] = {}
        self._empty = self._unit_vector_for("\x00empty")

    def __repr__(self) -> str:
        return f"HashingEmbedder(name={self.name!r})"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """The same vectors as `embed`, as a float32 array of shape (len(texts), dimensions)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; wrap a single text in a list")
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        hashes, doc_of = self._token_hashes(texts)
        feats, docs, weights = self._features(hashes, doc_of)
        if feats.size:
            self._accumulate(out, feats, docs, weights)
        return unit_rows(out, self._empty)

    def _token_hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """One 64-bit hash per kept word, and the index of the text it came from."""
        cache = self._word_hash
        hashes: list[int] = []
        doc_of: list[int] = []
        for i, text in enumerate(texts):
            before = len(hashes)
            for word in _WORD.findall(text.lower()):
                h = cache.get(word, -1)
                if h == -1:
                    h = cache[word] = self._hash_word(word)
                if h is not None:
                    hashes.append(h)
            doc_of.extend([i] * (len(hashes) - before))
        return np.array(hashes, dtype=_UINT64), np.array(doc_of, dtype=np.int64)

    @staticmethod
    def _hash_word(word: str) -> int | None:
        if word in _STOPWORDS:
            return None
        digest = hashlib.blake2b(stem(word).encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "little")

    def _features(
        self, hashes: np.ndarray, doc_of: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unigram and bigram feature hashes, their text index and base weight."""
        same_doc = doc_of[1:] == doc_of[:-1]
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            bigrams = _finalize(hashes[:-1][same_doc] * _MIX_A ^ hashes[1:][same_doc])
        feats = np.concatenate([hashes, bigrams])
        docs = np.concatenate([doc_of, doc_of[:-1][same_doc]])
        weights = np.concatenate(
            [np.ones(hashes.size), np.full(bigrams.size, self.bigram_weight)]
        ).astype(np.float32)
        return feats, docs, weights

    def _accumulate(
        self, out: np.ndarray, feats: np.ndarray, docs: np.ndarray, weights: np.ndarray
    ) -> None:
        """Add (1 + log tf) * weight * sign for each distinct (text, feature) into its bucket."""
        order = np.lexsort((feats, docs))
        feats, docs, weights = feats[order], docs[order], weights[order]
        starts = np.flatnonzero(
            np.concatenate([[True], (feats[1:] != feats[:-1]) | (docs[1:] != docs[:-1])])
        )
        tf = np.diff(np.append(starts, feats.size)).astype(np.float32)
        feats, docs, weights = feats[starts], docs[starts], weights[starts]
        buckets = (feats % _UINT64(self.dimensions)).astype(np.int64)
        signs = np.where(feats >> _UINT64(63), -1.0, 1.0).astype(np.float32)
        np.add.at(out, (docs, buckets), signs * weights * (1.0 + np.log(tf)))

    def _unit_vector_for(self, feature: str) -> np.ndarray:
        vec = np.zeros(self.dimensions, dtype=np.float32)
        h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
        vec[h % self.dimensions] = 1.0
        return vec
