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
- Every chunk is also in the lexical index (`lexical.py`: BM25 and per-file mean vectors),
  persisted beside the Chroma data. Files are written in groups of whole files (about
  `BATCH_SIZE` chunks): embed the group, write the lexical index, then Chroma. An interrupted
  write thus leaves Chroma behind, where the file-hash check makes the next ingest redo the file.
  A lexical index that is missing (a knowledge base from an older chatui) or was built by another
  analyzer is rebuilt from Chroma before the next search or write.
- `search` is hybrid (`hybrid.py`): the nearest chunks by vector and the best by lexical evidence
  are pooled and given an absolute score in [0, 1], so `min_score` filters the same way for every
  question. It never blocks the event loop (embedding, Chroma and BM25 run in
  `asyncio.to_thread`) and returns [] for an empty or missing collection: no documents is an
  answerable state, not a failure.
- In-memory stores (`path=None`) in one process share one Chroma instance while any is open; give
  them distinct collection names.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from chatui.config import Settings
from chatui.errors import InputError, RetrievalError
from chatui.retrieval.chunking import Chunk
from chatui.retrieval.embedders import Embedder
from chatui.retrieval.hybrid import COSINE_FLOOR, StoredChunk, cosine_to
from chatui.retrieval.hybrid import search as hybrid_search
from chatui.retrieval.lexical import LexicalIndex, mean_vectors
from chatui.retrieval.passage import Passage
from chatui.retrieval.word_embedder import WordLlamaEmbedder

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

    def __init__(
        self,
        client: ClientAPI,
        name: str,
        embedder: Embedder,
        where: str,
        lexical: LexicalIndex,
    ) -> None:
        self._client = client
        self._name = name
        self._embedder = embedder
        self._where = where
        self._lexical = lexical
        self._rebuild_lock = threading.Lock()
        self._collection: Collection | None = None

    @classmethod
    def open(
        cls,
        path: Path | None,
        collection: str = "docs",
        embedder: Embedder | None = None,
        *,
        reset: bool = False,
        server: tuple[str, int] | None = None,
    ) -> ChromaStore:
        """Open (not create: that happens at the first `add_chunks`) a collection at `path`.

        `path=None` keeps everything in memory. `reset=True` drops the collection first, which is
        how a collection built with another embedder is rebuilt. `server=(host, port)` uses a
        Chroma server over HTTP instead of the embedded database (the keyword index stays at
        `path`).
        """
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        where = "in memory" if path is None else str(path)
        if server is not None:
            where = f"the Chroma server at {server[0]}:{server[1]}"
        try:
            if server is not None:
                client = chromadb.HttpClient(host=server[0], port=server[1], settings=settings)
                client.heartbeat()
                if path is not None:
                    Path(path).mkdir(parents=True, exist_ok=True)
            elif path is None:
                client = chromadb.EphemeralClient(settings=settings)
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as exc:  # Chroma raises many types; all mean "cannot open"
            fix = (
                "Check that the server is running and CHROMA_HOST / CHROMA_PORT point to it."
                if server is not None
                else "Check that CHATUI_DATA_DIR points to a writable folder."
            )
            raise RetrievalError(f"Cannot open the knowledge base at {where}: {exc}. {fix}") from exc
        try:
            lexical = LexicalIndex(None if path is None else Path(path), collection)
        except BaseException:
            client.close()
            raise
        store = cls(client, collection, embedder or WordLlamaEmbedder(), where, lexical)
        try:
            if reset:
                store.reset()
            store._collection = store._fetch()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def from_settings(cls, settings: Settings, *, reset: bool = False) -> ChromaStore:
        """The configured knowledge base: embedded in the data dir, or on CHROMA_HOST:CHROMA_PORT."""
        from chatui.retrieval.remote_embedders import embedder_from_settings

        server = (settings.chroma_host, settings.chroma_port) if settings.chroma_host else None
        embedder = embedder_from_settings(settings)
        return cls.open(settings.chroma_dir, settings.collection, embedder, reset=reset, server=server)

    @property
    def collection_name(self) -> str:
        return self._name

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def close(self) -> None:
        """Release Chroma's resources and the keyword index (SQLite files). Safe to call twice."""
        self._collection = None
        self._lexical.close()
        self._client.close()

    def __enter__(self) -> ChromaStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def count(self) -> int:
        """How many chunks the knowledge base holds (the status line of every answer shows it).

        Read from the lexical index, which holds every chunk too and is brought up to date by two
        small indexed reads (its analyzer, its generation): a Chroma count cost about 1.5 ms of CPU
        however small the collection, a sixth of an API answer's set-up (bench/README.md). From
        Chroma while that index waits for its rebuild. The two differ only after an interrupted
        ingest, until the next one."""
        if self._current() is None:
            return 0
        size = self._lexical.size()
        return size if size is not None else self._run(lambda c: c.count(), missing=0)

    async def search(self, query: str, k: int = 5, min_score: float = 0.0) -> list[Passage]:
        """The `k` passages that best match `query` (hybrid: vector and lexical evidence, see
        `hybrid.py`), best first, each scoring at least `min_score`."""
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

        Chroma's cost is mostly per call, so many small files should go in one call: whole files
        are grouped into writes of about `BATCH_SIZE` chunks (one delete, one add each).
        """
        sources = [f.source for f in files]
        if len(set(sources)) != len(sources):
            raise ValueError("replace_files got the same source twice")
        for f in files:
            if any(c.source != f.source for c in f.chunks):
                raise ValueError(f"FileChunks for {f.source!r} holds chunks of another source")
        if not files:
            return 0
        self._ensure_lexical()
        for group in batch_groups(files):
            self._replace_group(group)
        return sum(len(f.chunks) for f in files)

    def delete_source(self, source: str) -> None:
        self._ensure_lexical()
        self._lexical.replace_sources([source], [], {})
        self._run(lambda c: c.delete(where={"source": source}), missing=None)

    def source_hashes(self) -> dict[str, str]:
        """Each fully stored source and the file hash it was ingested from."""
        return self._run(self._source_hashes, missing={})

    def collection_names(self) -> list[str]:
        """Every knowledge base (collection) in this Chroma database, sorted."""
        return sorted(c if isinstance(c, str) else c.name for c in self._client.list_collections())

    def reset(self) -> None:
        """Delete every chunk (and the collection itself, so a new embedder can be recorded)."""
        self._collection = None
        try:
            self._client.delete_collection(self._name)
        except NotFoundError:
            pass
        except Exception as exc:
            raise self._failure(exc) from exc
        # After Chroma: a reader that sees the lexical index gone must find Chroma empty too,
        # or it would rebuild the index from chunks that are about to disappear.
        self._lexical.drop()

    # -- internals ---------------------------------------------------------------------------

    def _replace_group(self, files: Sequence[FileChunks]) -> None:
        """Embed, then write the lexical index, then Chroma (see the module docstring)."""
        sources = [f.source for f in files]
        rows = [(c, f.file_hash, len(f.chunks)) for f in files for c in f.chunks]
        batches = [rows[i : i + BATCH_SIZE] for i in range(0, len(rows), BATCH_SIZE)]
        vectors = [self._embed([c.embedding_text for c, _, _ in b]) for b in batches]
        means = mean_vectors([c.source for c, _, _ in rows], vectors)
        chunks = [c for c, _, _ in rows]
        self._lexical.replace_sources(sources, chunks, means)
        self._run(lambda col: col.delete(where={"source": {"$in": sources}}), create=True)
        for batch, batch_vectors in zip(batches, vectors, strict=True):
            self._run(
                lambda col: col.upsert(
                    ids=[c.id for c, _, _ in batch],
                    embeddings=batch_vectors,
                    documents=[c.text for c, _, _ in batch],
                    metadatas=[_metadata(c, h, n) for c, h, n in batch],
                ),
                create=True,
            )

    def _embed(self, texts: list[str]) -> np.ndarray:
        as_array = getattr(self._embedder, "embed_array", None)  # the offline ones skip the lists
        return as_array(texts) if as_array else np.asarray(self._embedder.embed(texts), np.float32)

    def _search(self, query: str, k: int, min_score: float) -> list[Passage]:
        if self._current() is None:
            return []  # nothing ingested yet (and nothing to write, even on a read-only disk)
        vector = self._embedder.embed([query])[0]
        self._ensure_lexical()
        return hybrid_search(
            query,
            vector,
            k,
            min_score,
            near=self._near,
            cosines=self._cosines,
            fetch=self._fetch_chunks,
            lexical=self._lexical,
            floor=getattr(self._embedder, "cosine_floor", COSINE_FLOOR),
        )

    def _near(self, vector: Sequence[float], n: int) -> dict[str, float] | None:
        """The ids of the `n` chunks nearest to `vector`, with their cosine; None: no collection."""
        got = self._run(
            lambda c: c.query(query_embeddings=[vector], n_results=n, include=["distances"]),
            missing=None,
        )
        if got is None:
            return None
        distances = (got["distances"] or [[]])[0]
        return {i: 1.0 - float(d) for i, d in zip(got["ids"][0], distances, strict=True)}

    def _cosines(self, ids: list[str], vector: Sequence[float]) -> dict[str, float]:
        got = self._run(lambda c: c.get(ids=ids, include=["embeddings"]), missing=None)
        if got is None or not got["ids"]:
            return {}
        values = cosine_to(np.asarray(got["embeddings"], np.float32), vector)
        return dict(zip(got["ids"], values.tolist(), strict=True))

    def _fetch_chunks(self, ids: list[str]) -> list[StoredChunk]:
        got = self._run(lambda c: c.get(ids=ids, include=["documents", "metadatas"]), missing=None)
        if got is None:
            return []
        return [
            StoredChunk(i, str(meta["source"]), str(meta["title"]), text or "")
            for i, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
        ]

    def _ensure_lexical(self) -> None:
        """Rebuild the lexical index from Chroma if it is missing or was built another way."""
        with self._rebuild_lock:
            self._lexical.rebuild_if_needed(self._everything)

    def _everything(self) -> tuple[list[Chunk], dict[str, np.ndarray]]:
        """Every stored chunk, and each source's mean vector (read page by page)."""
        chunks: list[Chunk] = []
        sums: dict[str, np.ndarray] = {}
        counts: Counter[str] = Counter()
        offset, page = 0, 2000
        while True:
            got = self._run(
                lambda c: c.get(
                    include=["documents", "metadatas", "embeddings"], limit=page, offset=offset
                ),
                missing=None,
            )
            if got is None:
                break
            for chunk_id, text, meta, vector in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [],
                got["embeddings"] if got["embeddings"] is not None else [], strict=True,
            ):
                chunk = _chunk_from(chunk_id, text, meta)
                chunks.append(chunk)
                vector = np.asarray(vector, np.float32)
                sums[chunk.source] = sums.get(chunk.source, 0) + vector
                counts[chunk.source] += 1
            if len(got["ids"]) < page:
                break
            offset += page
        return chunks, {source: total / counts[source] for source, total in sums.items()}

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


def batch_groups(files: Sequence[FileChunks]) -> list[list[FileChunks]]:
    """Whole files, packed into groups of at most `BATCH_SIZE` chunks where files allow."""
    groups: list[list[FileChunks]] = [[]]
    size = 0
    for f in files:
        if groups[-1] and size + len(f.chunks) > BATCH_SIZE:
            groups.append([])
            size = 0
        groups[-1].append(f)
        size += len(f.chunks)
    return groups


def _chunk_from(chunk_id: str, text: str | None, meta: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        source=str(meta["source"]),
        title=str(meta["title"]),
        text=text or "",
        position=int(meta["position"]),
        doc_title=str(meta.get("doc_title") or ""),
    )


def _metadata(chunk: Chunk, file_hash: str, source_chunks: int) -> dict[str, str | int]:
    return {
        "source": chunk.source,
        "title": chunk.title,
        "doc_title": chunk.doc_title,
        "position": chunk.position,
        "file_hash": file_hash,
        "source_chunks": source_chunks,
    }
