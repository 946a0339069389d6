"""The SQLite database beside Chroma that persists the lexical index (see `lexical.py`).

Why this exists: the BM25 postings and per-file vectors must survive restarts and be shared by
every process using a knowledge base (`chatui ingest` writes while the server reads). SQLite gives
that with transactions and one file; this module is the only place that speaks SQL.

What must stay true:

- One file per Chroma folder, `chatui-lexical.sqlite3`, in WAL mode (readers never wait for the
  writer), holding every collection. With no folder, the database lives in memory, one per
  collection name per process, shared by every open store like Chroma's in-memory client.
- Every write is one IMMEDIATE transaction and increases the collection's `generation`.
  Generations only grow (dropping a collection keeps its row), so a reader that compares its
  generation with the stored one never mistakes a new index for the one it holds.
- `analyzer` is written only by a full rebuild; "" (after `drop`, or a write to a collection that
  was never rebuilt) means "incomplete: rebuild from Chroma".
- `read` returns one consistent state (one read transaction), never half of a write, with the
  chunks of each source together (`lexical.py` relies on that to build file postings cheaply).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

FILENAME = "chatui-lexical.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, analyzer TEXT NOT NULL, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    collection TEXT NOT NULL, chunk_id TEXT NOT NULL, source TEXT NOT NULL,
    length INTEGER NOT NULL, terms BLOB NOT NULL, PRIMARY KEY (collection, chunk_id));
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks (collection, source);
CREATE TABLE IF NOT EXISTS files (
    collection TEXT NOT NULL, source TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (collection, source));
"""
_memory: dict[str, tuple[sqlite3.Connection, threading.Lock, list[int]]] = {}
_memory_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ChunkRow:
    """One chunk as the lexical index stores it: packed (term hash, weight) pairs."""

    chunk_id: str
    source: str
    length: int
    terms: bytes


@dataclass(frozen=True, slots=True)
class Contents:
    """Everything stored for a collection at one generation (-1: nothing ever stored)."""

    generation: int
    chunks: list[ChunkRow]
    file_vectors: dict[str, bytes]


class Sidecar:
    """The lexical index's storage for one collection. Thread-safe; close when done."""

    def __init__(self, folder: Path | None, collection: str) -> None:
        self._collection = collection
        self._memory_key = None if folder is not None else f"chatui-lexical:{collection}"
        self._closed = False
        if self._memory_key is not None:
            self._conn, self._lock = _shared_memory_db(self._memory_key)
            return
        self._conn = sqlite3.connect(
            Path(folder) / FILENAME, timeout=30, check_same_thread=False, isolation_level=None
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)
        except BaseException:
            self._conn.close()
            raise
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the database. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._memory_key is None:
                self._conn.close()
        if self._memory_key is not None:
            _release_memory_db(self._memory_key)

    def generation(self) -> int:
        with self._lock:
            return self._generation()

    def analyzer(self) -> str | None:
        """The analyzer of the last full rebuild; None if the collection has no record."""
        with self._lock:
            return self._analyzer()

    def read(self) -> Contents:
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                generation = self._generation()
                chunks = [
                    ChunkRow(*row)
                    for row in self._conn.execute(
                        "SELECT chunk_id, source, length, terms FROM chunks WHERE collection = ? "
                        "ORDER BY source",
                        (self._collection,),
                    )
                ]
                files = dict(
                    self._conn.execute(
                        "SELECT source, vector FROM files WHERE collection = ?",
                        (self._collection,),
                    ).fetchall()
                )
            finally:
                self._conn.execute("COMMIT")
        return Contents(generation, chunks, files)

    def replace(
        self,
        sources: Sequence[str],
        chunks: Sequence[ChunkRow],
        file_vectors: dict[str, bytes],
        *,
        rebuild_as: str | None = None,
    ) -> bool:
        """Store `chunks` and `file_vectors` in place of everything `sources` had.

        With `rebuild_as`, replace the whole collection instead and record that analyzer, but
        only if the stored one differs (another process may have rebuilt meanwhile): returns
        whether it wrote.
        """
        c = self._collection
        with self._write():
            if rebuild_as is not None:
                if self._analyzer() == rebuild_as:
                    return False
                self._conn.execute("DELETE FROM chunks WHERE collection = ?", (c,))
                self._conn.execute("DELETE FROM files WHERE collection = ?", (c,))
            else:
                for table in ("chunks", "files"):
                    self._conn.executemany(
                        f"DELETE FROM {table} WHERE collection = ? AND source = ?",
                        [(c, s) for s in sources],
                    )
            self._conn.executemany(
                "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)",
                [(c, r.chunk_id, r.source, r.length, r.terms) for r in chunks],
            )
            self._conn.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                [(c, source, vector) for source, vector in file_vectors.items()],
            )
            self._bump(rebuild_as)
        return True

    def drop(self) -> None:
        """Forget the collection's contents; it counts as incomplete until rebuilt."""
        with self._write():
            for table in ("chunks", "files"):
                self._conn.execute(f"DELETE FROM {table} WHERE collection = ?", (self._collection,))
            self._bump("")

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _generation(self) -> int:
        row = self._conn.execute(
            "SELECT generation FROM collections WHERE name = ?", (self._collection,)
        ).fetchone()
        return row[0] if row else -1

    def _analyzer(self) -> str | None:
        row = self._conn.execute(
            "SELECT analyzer FROM collections WHERE name = ?", (self._collection,)
        ).fetchone()
        return row[0] if row else None

    def _bump(self, analyzer: str | None) -> None:
        """Count a write; set the analyzer if given (a first write without one records "")."""
        self._conn.execute(
            "INSERT INTO collections VALUES (?, ?, 1) ON CONFLICT(name) DO UPDATE "
            "SET generation = generation + 1, analyzer = coalesce(?, analyzer)",
            (self._collection, analyzer or "", analyzer),
        )


def _shared_memory_db(key: str) -> tuple[sqlite3.Connection, threading.Lock]:
    with _memory_lock:
        if key not in _memory:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            conn.executescript(_SCHEMA)
            _memory[key] = (conn, threading.Lock(), [0])
        conn, lock, users = _memory[key]
        users[0] += 1
        return conn, lock


def _release_memory_db(key: str) -> None:
    with _memory_lock:
        conn, _, users = _memory[key]
        users[0] -= 1
        if users[0] == 0:
            conn.close()
            del _memory[key]
