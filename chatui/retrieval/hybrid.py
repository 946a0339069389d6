"""Hybrid search: pool the vector side's and the lexical side's candidates, score them, rank them.

Why this exists: the vector side (cosine of hashed bags of words) and the lexical side (BM25 over
chunks and files, see `lexical.py`) fail differently. Cosine is blind to how rare a word is, and
BM25 ignores a chunk's overall topic. Fusing them beats either alone on real docs (README,
"Retrieval quality"). This module decides how; `ChromaStore` supplies Chroma access as two
functions, so the ranking itself is pure and testable without a database.

What must stay true:

- A passage's score is an absolute blend of evidence, each part in [0, 1] with weights summing
  to 1: chunk cosine, chunk BM25, file BM25, cosine to the file's mean vector; plus up to
  `HEADING_BOOST` when the question's rare words name the chunk's heading trail; clipped to
  [0, 1]. It is never rescaled per question (rank fusion such as RRF would give the best passage
  a high score whatever it is), so `min_score` means the same for every question and a question
  the docs do not cover scores near 0 and is dropped.
- The third and later passages of one file, in score order, are multiplied by `SAME_FILE_DECAY`
  per extra passage, so the top k are not one page's sections alone when other pages match too.
  Every score depends only on the candidates, never on `k` or `min_score`: `min_score` only
  drops passages, and passages come out best first (ties: by chunk id, so results repeat).
- The candidate pool is the `pool` nearest chunks by vector plus the `pool` best by lexical
  evidence; chunks only the lexical side proposed get their cosine from `fetch`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from chatui.retrieval.lexical import Evidence, LexicalIndex, terms
from chatui.retrieval.passage import Passage

W_VECTOR = 0.30
W_LEXICAL = 0.30
W_FILE_LEXICAL = 0.175
W_FILE_VECTOR = 0.225
HEADING_BOOST = 0.05
SAME_FILE_DECAY = 0.8
POOL_FACTOR, MIN_POOL = 4, 20  # each side proposes max(POOL_FACTOR * k, MIN_POOL) chunks
_NO_EVIDENCE = Evidence(0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as the vector store returns it, with its cosine to the question."""

    chunk_id: str
    source: str
    title: str
    text: str
    cosine: float


Near = Callable[[Sequence[float], int], list[StoredChunk] | None]  # None: no collection
Fetch = Callable[[list[str], Sequence[float]], list[StoredChunk]]


def search(
    query: str,
    vector: Sequence[float],
    k: int,
    min_score: float,
    *,
    near: Near,
    fetch: Fetch,
    lexical: LexicalIndex,
) -> list[Passage]:
    """The best `k` passages for `query` (embedded as `vector`) scoring at least `min_score`."""
    pool = max(POOL_FACTOR * k, MIN_POOL)
    nearest = near(vector, pool)
    if nearest is None:
        return []
    chunks = {c.chunk_id: c for c in nearest}
    match = lexical.search(query, vector, pool, side_score, also=list(chunks))
    missing = [i for i in match.evidence if i not in chunks]
    if missing:  # chunks the lexical index holds but Chroma not yet (an ingest running) drop out
        chunks.update((c.chunk_id, c) for c in fetch(missing, vector))
    scored = [
        (score(c.cosine, match.evidence.get(c.chunk_id, _NO_EVIDENCE)), c) for c in chunks.values()
    ]
    return rank(query, scored, k, min_score, match.idf)


def side_score(
    lexical: np.ndarray, file_lexical: np.ndarray, file_vector: np.ndarray
) -> np.ndarray:
    """The score without the chunk's own cosine: how the lexical side picks its candidates."""
    return W_LEXICAL * lexical + W_FILE_LEXICAL * file_lexical + W_FILE_VECTOR * file_vector


def score(cosine: float, evidence: Evidence) -> float:
    """The blend of all evidence, before the heading boost (see the module docstring)."""
    return (
        W_VECTOR * max(cosine, 0.0)
        + W_LEXICAL * evidence.lexical
        + W_FILE_LEXICAL * evidence.file_lexical
        + W_FILE_VECTOR * max(evidence.file_vector, 0.0)
    )


def rank(
    query: str,
    scored: Sequence[tuple[float, StoredChunk]],
    k: int,
    min_score: float,
    idf: Mapping[str, float],
) -> list[Passage]:
    """Add the heading boost, decay repeats from one file, keep the best `k` above `min_score`."""
    wanted = {t: idf.get(t, 0.0) for t in terms(query)}
    total = sum(wanted.values())
    boosted = []
    for base, chunk in scored:
        if base > 0.0 and total > 0.0:
            heading = set(terms(chunk.title))
            base += HEADING_BOOST * sum(w for t, w in wanted.items() if t in heading) / total
        boosted.append((min(max(base, 0.0), 1.0), chunk))
    boosted.sort(key=lambda item: (-item[0], item[1].chunk_id))
    seen: Counter[str] = Counter()
    final = []
    for value, chunk in boosted:
        seen[chunk.source] += 1
        value *= SAME_FILE_DECAY ** max(0, seen[chunk.source] - 2)
        if value >= min_score:
            final.append((value, chunk))
    final.sort(key=lambda item: (-item[0], item[1].chunk_id))
    return [
        Passage(c.chunk_id, c.source, c.title, c.text, round(value, 6)) for value, c in final[:k]
    ]


def cosine_to(embeddings: np.ndarray, vector: Sequence[float]) -> np.ndarray:
    """The cosine of each row of `embeddings` to `vector` (0 for a zero row)."""
    query = np.asarray(vector, np.float32)
    norms = np.linalg.norm(embeddings, axis=1) * (np.linalg.norm(query) or 1.0)
    return embeddings @ query / np.where(norms == 0, 1.0, norms)
