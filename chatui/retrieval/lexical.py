"""The lexical index: BM25 over chunks and over whole files, and each file's mean vector.

Why this exists: a text's vector blurs its words together (the hashing embedder weighs every word
alike; mean word vectors favour frequent topics), so a question that hinges on one
distinctive word ("debounce", "Postgres", "alembic") can lose to chunks that share many common
ones. BM25 weights words by rarity, saturates repeats and normalises for length; the heading
trail counts `TITLE_WEIGHT` times, because in docs the heading names the topic. Questions often
use words that are spread over a page rather than packed into one chunk, so the same postings
also score whole files, and each file keeps the mean of its chunks' vectors: `hybrid.py` lets a
chunk inherit part of its file's match. (On the Reflex docs each file-level signal adds several
points of recall@5; see README, "Retrieval quality".)

What must stay true:

- It is derived data: everything in it came from, and can be rebuilt from, the Chroma collection
  beside it. `ANALYZER` names everything that decides a stored row (version, title weight, a
  fingerprint of the tokenizer's output), so changing any of them triggers a rebuild instead of
  silently comparing query terms with differently made stored terms.
- Searches read an immutable `_Snapshot`, swapped in whole after a reload. Each search first
  compares the stored generation (one indexed read) with the snapshot's and reloads when they
  differ, so a server sees what `chatui ingest` wrote from another process.
- Scores are BM25 divided by its upper bound for the query (every term saturated), so they lie in
  [0, 1] and mean "how much of the question's weighted vocabulary this covers". A question whose
  words the docs never use scores 0 everywhere (unknown words get the highest idf).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chatui.errors import RetrievalError
from chatui.retrieval.chunking import Chunk
from chatui.retrieval.sidecar import FILENAME, ChunkRow, Contents, Sidecar
from chatui.retrieval.text import terms as text_terms

TITLE_WEIGHT = 2.0
K1, B = 1.2, 0.75
_VERSION = 1
_PROBE = "Installing configured services: classes' boxes, rx.State on_click, app's café 2024"
_HASH_CACHE_SIZE = 200_000  # distinct words remembered; queries bring new ones forever
_ENTRY = np.dtype([("hash", "<u8"), ("tf", "<f4")])


def terms(text: str) -> list[str]:
    """`text.terms`, with possessives cut ("app's" -> "app": a rare "app'" would weigh a lot)."""
    return [t.split("'", 1)[0].split("’", 1)[0] for t in text_terms(text)]


ANALYZER = (
    f"bm25-v{_VERSION}-title{TITLE_WEIGHT:g}-"
    + hashlib.blake2b(" ".join(terms(_PROBE)).encode(), digest_size=4).hexdigest()
)


def heading_text(chunk: Chunk) -> str:
    """The words a chunk is filed under: its document's title, then its heading trail."""
    if chunk.doc_title and not chunk.title.startswith(chunk.doc_title):
        return f"{chunk.doc_title} {chunk.title}"
    return chunk.title


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the lexical index knows about one chunk for one question (scores in [0, 1])."""

    source: str
    lexical: float  # the chunk's BM25
    file_lexical: float  # its file's BM25
    file_vector: float  # cosine of the question to its file's mean vector (0 if unknown)


@dataclass(frozen=True, slots=True)
class _Postings:
    """Per (term, document) pairs sorted by term hash, with BM25's saturated tf precomputed."""

    hashes: np.ndarray  # uint64
    docs: np.ndarray  # int32: chunk slot, or file index
    saturated: np.ndarray  # float32: tf (k1 + 1) / (tf + k1 (1 - b + b * length / average))


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One generation in memory: chunk and file postings, chunk ids, file vectors."""

    generation: int
    ids: tuple[str, ...]
    slot_of: dict[str, int]
    file_of: np.ndarray  # int32 per chunk slot: index into the file arrays
    sources: tuple[str, ...]  # per file
    file_vectors: np.ndarray  # float32 (files, dimensions), unit rows; (files, 0) if none
    chunks_postings: _Postings
    files_postings: _Postings


_NO_POSTINGS = _Postings(np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.float32))
_EMPTY = _Snapshot(
    -1, (), {}, np.zeros(0, np.int32), (), np.zeros((0, 0), np.float32), _NO_POSTINGS, _NO_POSTINGS
)
RankBy = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class LexicalIndex:
    """The lexical index of one collection, persisted in `folder` (None: in memory).

    Database failures surface as `RetrievalError`s that say what to do.
    """

    def __init__(self, folder: Path | None, collection: str) -> None:
        self._where = "in memory" if folder is None else str(Path(folder) / FILENAME)
        try:
            self._db = Sidecar(folder, collection)
        except (sqlite3.Error, OSError) as exc:
            raise RetrievalError(
                f"Cannot open the lexical index at {self._where}: {exc}. Check that "
                "CHATUI_DATA_DIR points to a writable folder."
            ) from exc
        self._snapshot = _EMPTY
        self._load_lock = threading.Lock()
        self._hash_cache: dict[str, int] = {}

    def close(self) -> None:
        self._db.close()
        self._snapshot = _EMPTY

    def size(self) -> int | None:
        """How many chunks the index holds (current, as for a search); None if it needs a rebuild."""
        if self.needs_rebuild():
            return None
        return len(self._current().ids)

    def needs_rebuild(self) -> bool:
        """True when the collection was never fully indexed, or by another analyzer."""
        with self._errors():
            return self._db.analyzer() != ANALYZER

    def rebuild_if_needed(
        self, load: Callable[[], tuple[Iterable[Chunk], Mapping[str, np.ndarray]]]
    ) -> bool:
        """Index everything `load()` returns (all chunks, file vectors) if `needs_rebuild`."""
        if not self.needs_rebuild():
            return False
        chunks, vectors = load()
        rows = [self._row(c) for c in chunks]
        with self._errors():
            return self._db.replace([], rows, _pack_vectors(vectors), rebuild_as=ANALYZER)

    def replace_sources(
        self, sources: Sequence[str], chunks: Sequence[Chunk], vectors: Mapping[str, np.ndarray]
    ) -> None:
        """Store `chunks` and file `vectors` in place of everything `sources` had."""
        rows = [self._row(c) for c in chunks]
        with self._errors():
            self._db.replace(sources, rows, _pack_vectors(vectors))

    def drop(self) -> None:
        with self._errors():
            self._db.drop()

    def search(
        self,
        query: str,
        vector: Sequence[float],
        limit: int,
        rank_by: RankBy,
        also: Iterable[str] = (),
    ) -> dict[str, Evidence]:
        """Evidence by chunk id: for the `limit` chunks that `rank_by` scores best, and for the
        chunks named in `also` that the index holds.

        `rank_by(lexical, file_lexical, file_vector)` gets one array per kind of evidence, over
        all chunks; a chunk it scores 0 is never proposed.
        """
        snap = self._current()
        n, files = len(snap.ids), len(snap.sources)
        if n == 0:
            return {}
        words = Counter(terms(query))
        wanted = np.array([self._hash(w) for w in words], dtype=np.uint64)
        counts = np.array(list(words.values()), dtype=np.float64)
        chunk_scores = _bm25(snap.chunks_postings, n, wanted, counts)
        file_scores = _bm25(snap.files_postings, files, wanted, counts)
        file_cosines = np.zeros(files)
        if snap.file_vectors.shape[1] == len(vector) and files:
            q = np.array(vector, dtype=np.float32)  # a copy: normalised in place
            # einsum, not `@`: a BLAS matrix-vector product spreads over threads that spin on a
            # busy machine (5x slower wall time at 6k files on 2 busy cores); einsum stays on ours.
            q /= np.linalg.norm(q) or 1.0
            file_cosines = np.maximum(np.einsum("ij,j->i", snap.file_vectors, q), 0.0)
        per_file_lexical, per_file_vector = file_scores[snap.file_of], file_cosines[snap.file_of]
        ranked = rank_by(chunk_scores, per_file_lexical, per_file_vector)
        top = np.flatnonzero(ranked > 0)
        if top.size > limit:
            top = top[np.argpartition(-ranked[top], limit - 1)[:limit]]
        chosen = {int(i) for i in top}
        chosen.update(snap.slot_of[c] for c in also if c in snap.slot_of)
        return {
            snap.ids[i]: Evidence(
                snap.sources[snap.file_of[i]],
                float(chunk_scores[i]),
                float(per_file_lexical[i]),
                float(per_file_vector[i]),
            )
            for i in chosen
        }

    def _row(self, chunk: Chunk) -> ChunkRow:
        body, title = terms(chunk.text), terms(heading_text(chunk))
        weights: Counter[int] = Counter()
        for t in body:
            weights[self._hash(t)] += 1.0
        for t in title:
            weights[self._hash(t)] += TITLE_WEIGHT
        packed = np.empty(len(weights), dtype=_ENTRY)
        packed["hash"] = np.fromiter(weights.keys(), dtype=np.uint64, count=len(weights))
        packed["tf"] = np.fromiter(weights.values(), dtype=np.float32, count=len(weights))
        return ChunkRow(chunk.id, chunk.source, len(body) + len(title), packed.tobytes())

    def _hash(self, term: str) -> int:
        h = self._hash_cache.get(term)
        if h is None:
            if len(self._hash_cache) >= _HASH_CACHE_SIZE:
                self._hash_cache = {}
            digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
            h = self._hash_cache[term] = int.from_bytes(digest, "little")
        return h

    def _current(self) -> _Snapshot:
        """The snapshot of the stored generation, loaded (by one thread) if ours is stale."""
        with self._errors():
            if self._db.generation() == self._snapshot.generation:
                return self._snapshot
            with self._load_lock:
                contents = self._db.read()
                if contents.generation != self._snapshot.generation:
                    self._snapshot = _build(contents)
                return self._snapshot

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:  # busy, locked, read-only, disk full
            raise RetrievalError(
                f"The lexical index at {self._where} could not be used ({exc}); is another "
                "`chatui ingest` running? Try again when it has finished.",
                retryable=True,
            ) from exc
        except sqlite3.Error as exc:
            raise RetrievalError(
                f"The lexical index at {self._where} is damaged ({exc}). Delete that file: "
                "chatui rebuilds it from the knowledge base at the next search."
            ) from exc


def _build(contents: Contents) -> _Snapshot:
    rows = contents.chunks
    if not rows:
        return dataclasses.replace(_EMPTY, generation=contents.generation)
    ids = tuple(r.chunk_id for r in rows)
    file_index: dict[str, int] = {}
    file_of = np.fromiter(
        (file_index.setdefault(r.source, len(file_index)) for r in rows), np.int32, len(rows)
    )
    lengths = np.fromiter((r.length for r in rows), np.float64, len(rows))
    entries = np.frombuffer(b"".join(r.terms for r in rows), dtype=_ENTRY)
    counts = np.fromiter((len(r.terms) // _ENTRY.itemsize for r in rows), np.int64, len(rows))
    slots = np.repeat(np.arange(len(rows), dtype=np.int32), counts)
    hashes, tfs = entries["hash"], entries["tf"].astype(np.float64)
    # Rows come grouped by source, so slots (and files) ascend; a stable sort by hash keeps that
    # order within each term, which puts each (term, file) pair's postings side by side.
    order = np.argsort(hashes, kind="stable")
    pair_hash, pair_file = hashes[order], file_of[slots[order]]
    starts = np.flatnonzero(
        np.r_[True, (pair_hash[1:] != pair_hash[:-1]) | (pair_file[1:] != pair_file[:-1])]
    )
    file_lengths = np.bincount(file_of, lengths, minlength=len(file_index))
    return _Snapshot(
        generation=contents.generation,
        ids=ids,
        slot_of={chunk_id: i for i, chunk_id in enumerate(ids)},
        file_of=file_of,
        sources=tuple(file_index),
        file_vectors=_file_matrix(file_index, contents.file_vectors),
        chunks_postings=_postings(hashes[order], slots[order], tfs[order], lengths),
        files_postings=_postings(
            pair_hash[starts], pair_file[starts], np.add.reduceat(tfs[order], starts), file_lengths
        ),
    )


def _postings(
    hashes: np.ndarray, docs: np.ndarray, tfs: np.ndarray, lengths: np.ndarray
) -> _Postings:
    relative = lengths[docs] / (float(lengths.mean()) or 1.0)
    saturated = tfs * (K1 + 1) / (tfs + K1 * (1 - B + B * relative))
    return _Postings(
        np.ascontiguousarray(hashes), np.ascontiguousarray(docs, dtype=np.int32),
        saturated.astype(np.float32),
    )


def _bm25(
    postings: _Postings, documents: int, wanted: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Each document's BM25 for the query terms `wanted` (repeated `counts` times), divided by
    its upper bound for the query (unknown terms count with the highest idf)."""
    lo = np.searchsorted(postings.hashes, wanted, side="left")
    hi = np.searchsorted(postings.hashes, wanted, side="right")
    found = hi - lo
    idf = np.log(1.0 + (documents - found + 0.5) / (found + 0.5))
    scores = np.zeros(documents)
    for a, b, weight in zip(lo.tolist(), hi.tolist(), (counts * idf).tolist(), strict=True):
        if b > a:
            scores[postings.docs[a:b]] += weight * postings.saturated[a:b]
    ceiling = float((counts * idf).sum()) * (K1 + 1)
    return scores / ceiling if ceiling else scores


def _file_matrix(file_index: dict[str, int], stored: Mapping[str, bytes]) -> np.ndarray:
    """Unit mean vectors, one row per file (zeros for a file without one)."""
    present = [(i, stored[s]) for s, i in file_index.items() if s in stored]
    sizes = {len(blob) for _, blob in present}
    if len(sizes) != 1:  # none stored, or made by different embedders: no file-vector evidence
        return np.zeros((len(file_index), 0), np.float32)
    dimensions = sizes.pop() // np.dtype(np.float32).itemsize
    matrix = np.zeros((len(file_index), dimensions), np.float32)
    rows = np.fromiter((i for i, _ in present), np.int64, len(present))
    matrix[rows] = np.frombuffer(b"".join(b for _, b in present), np.float32).reshape(-1, dimensions)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]
    return matrix / np.where(norms == 0, 1.0, norms)


def mean_vectors(sources: Sequence[str], vectors: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Each source's mean vector, from its chunks' vectors (rows of `vectors`, in order)."""
    if not sources:
        return {}
    stacked = np.concatenate(vectors)
    index: dict[str, int] = {}
    rows = np.fromiter((index.setdefault(s, len(index)) for s in sources), np.int64, len(sources))
    sums = np.zeros((len(index), stacked.shape[1]), np.float64)
    np.add.at(sums, rows, stacked)
    sums /= np.bincount(rows)[:, None]
    return {source: sums[i].astype(np.float32) for source, i in index.items()}


def _pack_vectors(vectors: Mapping[str, np.ndarray]) -> dict[str, bytes]:
    return {s: np.asarray(v, dtype=np.float32).tobytes() for s, v in vectors.items()}
