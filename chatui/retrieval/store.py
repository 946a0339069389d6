"""The knowledge base: chunks and their vectors in a Chroma collection.

Why this exists: it is the one place that talks to Chroma, so the rest of chatui sees `Passage`
values and `RetrievalError`s, never Chroma types or exceptions.

What must stay true:

- chatui computes every vector itself with an `Embedder` and passes it explicitly. Collections are
  created and fetched with `embedding_function=None`, so Chroma's default embedder (which downloads
  an ONNX model on first use) is never called; Chroma telemetry is off.
- A collection records the embedder's `name` in its metadata; opening it with another embedder
  raises `RetrievalError` telling the user to re-ingest, because vectors from two embedders are not
  comparable and mixing them returns nonsense without any error.
- `add_chunks` and `replace_files` replace everything stored for their sources. Every stored
  chunk carries its file's hash and chunk count; `source_hashes` reports a source only when all
  its chunks are present, so an ingest interrupted half-way through a file redoes that file.
- `search` never blocks the event loop (embedding and Chroma run in `asyncio.to_thread`), returns
  best-first passages with score = 1 - cosine distance clipped to [0, 1], and returns [] for an
  empty or missing collection: no documents is an answerable state, not a failure.
- In-memory stores (`path=None`) in one process share one Chroma instance while any is open; give
  them distinct collection names.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from chatui.errors import InputError, RetrievalError
from chatui.retrieval.chunking import Chunk
from chatui.retrieval.embedders import Embedder, HashingEmbedder
from chatui.retrieval.passage import Passage

T = TypeVar("T")
BATCH_SIZE = 256
_EMBEDDER_KEY = "chatui:embedder"
_REINGEST = "run `chatui ingest --reset PATH` (PATH: your docs folder) to rebuild it"


@dataclass(frozen=True, slots=True)
class FileChunks:
    """One version of one file, ready to store: its chunks and the fingerprint they came from."""

    source: str
    file_hash: str
    chunks: tuple[Chunk, ...]


class ChromaStore:
    """A Chroma collection of chunks. Open with `ChromaStore.open`; close when done."""

    def __init__(self, client: ClientAPI, name: str, embedder: Embedder, where: str) -> None:
        self._client = client
        self._name = name
        self._embedder = embedder
        self._where = where
        self._collection: Collection | None = None

    @classmethod
    def open(
        cls,
        path: Path | None,
        collection: str = "docs",
        embedder: Embedder | None = None,
        *,
        reset: bool = False,
    ) -> ChromaStore:
        """Open (not create: that happens at the first `add_chunks`) a collection at `path`.

        `path=None` keeps everything in memory. `reset=True` drops the collection first, which is
        how a collection built with another embedder is rebuilt.
        """
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        where = "in memory" if path is None else str(path)
        try:
            if path is None:
                client = chromadb.EphemeralClient(settings=settings)
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as exc:  # Chroma raises many types; all mean "cannot open"
            raise RetrievalError(
                f"Cannot open the knowledge base at {where}: {exc}. "
                "Check that CHATUI_DATA_DIR points to a writable folder."
            ) from exc
        store = cls(client, collection, embedder or HashingEmbedder(), where)
        try:
            if reset:
                store.reset()
            store._collection = store._fetch()
        except BaseException:
            store.close()
            raise
        return store

    @property
    def collection_name(self) -> str:
        return self._name

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def close(self) -> None:
        """Release Chroma's resources (the SQLite file). Safe to call twice."""
        self._collection = None
        self._client.close()

    def __enter__(self) -> ChromaStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def count(self) -> int:
        return self._run(lambda c: c.count(), missing=0)

    async def search(self, query: str, k: int = 5, min_score: float = 0.0) -> list[Passage]:
        """The `k` passages nearest to `query`, best first, each scoring at least `min_score`."""
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        if not 0.0 <= min_score <= 1.0:
            raise InputError(f"min_score must be between 0 and 1, got {min_score}")
        if not query.strip():
            return []
        return await asyncio.to_thread(self._search, query, k, min_score)

    def add_chunks(self, chunks: Sequence[Chunk], file_hash: str) -> int:
        """Store `chunks` (all of one source) in place of what that source had; returns count."""
        sources = {c.source for c in chunks}
        if len(sources) > 1:
            raise ValueError(f"add_chunks takes the chunks of one source, got {sorted(sources)}")
        if not chunks:
            return 0
        return self.replace_files([FileChunks(chunks[0].source, file_hash, tuple(chunks))])

    def replace_files(self, files: Sequence[FileChunks]) -> int:
        """Store each file's chunks in place of whatever its source had; returns chunks stored.

        Chroma's cost is mostly per call, so many small files should go in one call: this deletes
        their old chunks at once and adds the new ones `BATCH_SIZE` at a time.
        """
        sources = [f.source for f in files]
        if len(set(sources)) != len(sources):
            raise ValueError("replace_files got the same source twice")
        for f in files:
            if any(c.source != f.source for c in f.chunks):
                raise ValueError(f"FileChunks for {f.source!r} holds chunks of another source")
        if not files:
            return 0
        rows = [(c, f.file_hash, len(f.chunks)) for f in files for c in f.chunks]
        self._run(lambda col: col.delete(where={"source": {"$in": sources}}), create=True)
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            vectors = self._embedder.embed([c.embedding_text for c, _, _ in batch])
            self._run(
                lambda col: col.upsert(
                    ids=[c.id for c, _, _ in batch],
                    embeddings=vectors,
                    documents=[c.text for c, _, _ in batch],
                    metadatas=[_metadata(c, h, n) for c, h, n in batch],
                ),
                create=True,
            )
        return len(rows)

    def delete_source(self, source: str) -> None:
        self._run(lambda c: c.delete(where={"source": source}), missing=None)

    def source_hashes(self) -> dict[str, str]:
        """Each fully stored source and the file hash it was ingested from."""
        return self._run(self._source_hashes, missing={})

    def reset(self) -> None:
        """Delete every chunk (and the collection itself, so a new embedder can be recorded)."""
        self._collection = None
        try:
            self._client.delete_collection(self._name)
        except NotFoundError:
            pass
        except Exception as exc:
            raise self._failure(exc) from exc

    # -- internals ---------------------------------------------------------------------------

    def _search(self, query: str, k: int, min_score: float) -> list[Passage]:
        vector = self._embedder.embed([query])
        result = self._run(
            lambda c: c.query(
                query_embeddings=vector,
                n_results=k,
                include=["documents", "metadatas", "distances"],
            ),
            missing=None,
        )
        if result is None:
            return []
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        passages = []
        for chunk_id, text, meta, distance in zip(
            result["ids"][0], documents, metadatas, distances, strict=True
        ):
            score = min(max(1.0 - float(distance), 0.0), 1.0)
            if score >= min_score:
                passages.append(
                    Passage(chunk_id, str(meta["source"]), str(meta["title"]), text or "", score)
                )
        passages.sort(key=lambda p: p.score, reverse=True)
        return passages

    @staticmethod
    def _source_hashes(collection: Collection) -> dict[str, str]:
        hashes: dict[str, str] = {}
        expected: dict[str, int] = {}
        present: Counter[str] = Counter()
        offset, page = 0, 5000
        while True:
            got = collection.get(include=["metadatas"], limit=page, offset=offset)
            metadatas = got["metadatas"] or []
            for meta in metadatas:
                source = str(meta["source"])
                hashes[source] = str(meta["file_hash"])
                expected[source] = int(meta["source_chunks"])  # type: ignore[arg-type]
                present[source] += 1
            if len(metadatas) < page:
                break
            offset += page
        return {s: h for s, h in hashes.items() if present[s] == expected[s]}

    def _run(
        self, op: Callable[[Collection], T], *, create: bool = False, missing: Any = None
    ) -> T:
        """Run `op` on the collection; if it is missing, return `missing` (or create it).

        The collection is fetched again when it did not exist at open time (another process may
        have ingested since) or was deleted since (another process may have reset it).
        """
        for attempt in (1, 2):
            collection = self._current(create=create)
            if collection is None:
                return missing
            try:
                return op(collection)
            except NotFoundError:
                self._collection = None
                if attempt == 2:
                    raise RetrievalError(
                        f"Collection {self._name!r} at {self._where} keeps disappearing; is "
                        "another chatui process resetting it? Try again when it has finished.",
                        retryable=True,
                    ) from None
            except RetrievalError:
                raise
            except Exception as exc:
                raise self._failure(exc) from exc
        raise AssertionError("unreachable")

    def _failure(self, exc: Exception) -> RetrievalError:
        return RetrievalError(
            f"The knowledge base at {self._where} failed: {exc}. If this persists, {_REINGEST}."
        )

    def _current(self, *, create: bool = False) -> Collection | None:
        """The collection; fetched again if it did not exist (another process may have made it)."""
        if self._collection is None:
            self._collection = self._fetch(create=create)
        return self._collection

    def _fetch(self, *, create: bool = False) -> Collection | None:
        try:
            if create:
                collection = self._client.get_or_create_collection(
                    self._name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={_EMBEDDER_KEY: self._embedder.name},
                )
            else:
                collection = self._client.get_collection(self._name, embedding_function=None)
        except NotFoundError:
            return None
        except Exception as exc:
            raise RetrievalError(
                f"Cannot open collection {self._name!r} in the knowledge base at {self._where}: "
                f"{exc}. Check CHATUI_COLLECTION: 3 or more letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit."
            ) from exc
        recorded = (collection.metadata or {}).get(_EMBEDDER_KEY)
        if recorded != self._embedder.name:
            raise RetrievalError(
                f"The knowledge base at {self._where} (collection {self._name!r}) was built with "
                f"embedder {recorded or 'unknown'!r}, but chatui now uses "
                f"{self._embedder.name!r}, and their vectors cannot be compared; {_REINGEST}."
            )
        return collection


def _metadata(chunk: Chunk, file_hash: str, source_chunks: int) -> dict[str, str | int]:
    return {
        "source": chunk.source,
        "title": chunk.title,
        "doc_title": chunk.doc_title,
        "position": chunk.position,
        "file_hash": file_hash,
        "source_chunks": source_chunks,
    }
