"""Hybrid search: pool the vector side's and the lexical side's candidates, score them, rank them.

Why this exists: the vector side (cosine of mean word vectors, or of hashed bags of words) and the
lexical side (BM25 over chunks and files, see `lexical.py`) fail differently. Cosine is blind to
how rare a word is, and BM25 to synonyms and to a chunk's overall topic. Fusing them beats either
alone on real docs (README, "Retrieval quality"). This module decides how; `ChromaStore` supplies
Chroma access as three functions, so the ranking itself is pure and testable without a database.
The weights were chosen on the even-numbered questions of evals/reflex-docs.json and checked on
the odd ones; they sit on a plateau (nearby values move recall@5 by one question or none).

What must stay true:

- A passage's score is an absolute blend of evidence, each part in [0, 1] with weights summing
  to 1: chunk cosine, chunk BM25, file BM25, cosine to the file's mean vector. Cosines count
  only above the embedder's noise floor (its `cosine_floor`, else `COSINE_FLOOR`): the cosine an
  unrelated text typically reaches (hashed words collide; mean word vectors share a common
  direction), so that noise adds nothing. The score is never rescaled per question (rank fusion
  such as RRF would give the best passage a high score whatever it is), so `min_score` means the
  same for every question, and a question the docs do not cover scores near 0 and is dropped.
- Rerank: the second and later passages of one file, in score order, are multiplied by
  `SAME_FILE_DECAY` per extra passage, so the top k are not one page's sections alone when other
  pages match too. (A boost for question words in the heading trail was measured and dropped: the
  lexical side already weights headings, and the boost cost recall.) Every score depends only on
  the candidates, never on `k` or `min_score`: `min_score` only drops passages, and passages come
  out best first (ties: by chunk id, so results repeat).
- The candidate pool is the `pool` nearest chunks by vector plus the `pool` best by lexical
  evidence; chunks only the lexical side proposed get their cosine from `cosines`.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from chatui.retrieval.lexical import Evidence, LexicalIndex
from chatui.retrieval.passage import Passage

W_VECTOR = 0.30
W_LEXICAL = 0.30
W_FILE_LEXICAL = 0.175
W_FILE_VECTOR = 0.225
COSINE_FLOOR = 0.1  # for an embedder that declares no `cosine_floor`
SAME_FILE_DECAY = 0.8
SAME_FILE_KEEP = 1  # passages of one file before the decay starts
POOL_FACTOR, MIN_POOL = 4, 30  # each side proposes max(POOL_FACTOR * k, MIN_POOL) chunks
_NO_EVIDENCE = Evidence("", 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk's text and labels, as the vector store holds them."""

    chunk_id: str
    source: str
    title: str
    text: str


Near = Callable[[Sequence[float], int], dict[str, float] | None]  # id -> cosine; None: no data
Cosines = Callable[[list[str], Sequence[float]], dict[str, float]]  # only ids the store holds
Fetch = Callable[[list[str]], list[StoredChunk]]  # only ids the store holds


def search(
    query: str,
    vector: Sequence[float],
    k: int,
    min_score: float,
    *,
    near: Near,
    cosines: Cosines,
    fetch: Fetch,
    lexical: LexicalIndex,
    floor: float = COSINE_FLOOR,
) -> list[Passage]:
    """The best `k` passages for `query` (embedded as `vector`) scoring at least `min_score`.

    Only the final `k` chunks' text is read: candidates are scored from ids, cosines and the
    lexical index's evidence (which knows each chunk's source, for the same-file decay).
    """
    pool = max(POOL_FACTOR * k, MIN_POOL)
    nearest = near(vector, pool)
    if nearest is None:
        return []
    evidence = lexical.search(
        query, vector, pool, functools.partial(side_score, floor=floor), also=list(nearest)
    )
    missing = [i for i in evidence if i not in nearest]
    # Chunks the lexical index holds but the vector store does not (yet) drop out here.
    found = nearest | (cosines(missing, vector) if missing else {})
    scored = []
    for i, cosine in found.items():
        known = evidence.get(i, _NO_EVIDENCE)
        scored.append((score(cosine, known, floor), i, known.source or i))  # unknown source: alone
    best = rank(scored, k, min_score)
    chunks = {c.chunk_id: c for c in fetch([i for _, i in best])} if best else {}
    return [
        Passage(i, chunks[i].source, chunks[i].title, chunks[i].text, value)
        for value, i in best
        if i in chunks
    ]


def side_score(
    lexical: np.ndarray,
    file_lexical: np.ndarray,
    file_vector: np.ndarray,
    floor: float = COSINE_FLOOR,
) -> np.ndarray:
    """The score without the chunk's own cosine: how the lexical side picks its candidates."""
    file_vector = np.maximum(file_vector - floor, 0.0) / (1.0 - floor)
    return W_LEXICAL * lexical + W_FILE_LEXICAL * file_lexical + W_FILE_VECTOR * file_vector


def score(cosine: float, evidence: Evidence, floor: float = COSINE_FLOOR) -> float:
    """The blend of all evidence (see the module docstring)."""
    return (
        W_VECTOR * _above_floor(cosine, floor)
        + W_LEXICAL * evidence.lexical
        + W_FILE_LEXICAL * evidence.file_lexical
        + W_FILE_VECTOR * _above_floor(evidence.file_vector, floor)
    )


def _above_floor(cosine: float, floor: float) -> float:
    """A cosine's share of the range above the noise floor: 0 at or under it, 1 at 1."""
    return max(cosine - floor, 0.0) / (1.0 - floor)


def rank(
    scored: Sequence[tuple[float, str, str]], k: int, min_score: float
) -> list[tuple[float, str]]:
    """(score, chunk id, source) in; the best `k` (score, chunk id) at or above `min_score` out,
    after decaying the later chunks of one source (from the `SAME_FILE_KEEP` + 1st on)."""
    ordered = sorted(scored, key=lambda item: (-item[0], item[1]))
    seen: Counter[str] = Counter()
    final = []
    for value, chunk_id, source in ordered:
        seen[source] += 1
        value = min(max(value, 0.0), 1.0) * SAME_FILE_DECAY ** max(0, seen[source] - SAME_FILE_KEEP)
        if value >= min_score:
            final.append((round(value, 6), chunk_id))
    final.sort(key=lambda item: (-item[0], item[1]))
    return final[:k]


def cosine_to(embeddings: np.ndarray, vector: Sequence[float]) -> np.ndarray:
    """The cosine of each row of `embeddings` to `vector` (0 for a zero row)."""
    query = np.asarray(vector, np.float32)
    norms = np.linalg.norm(embeddings, axis=1) * (np.linalg.norm(query) or 1.0)
    return np.einsum("ij,j->i", embeddings, query) / np.where(norms == 0, 1.0, norms)
