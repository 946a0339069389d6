"""Load documents from disk into the knowledge base: find files, chunk them, store them.

Why this exists: `chatui ingest PATH...` must be safe to re-run on a docs folder at any time. It
only redoes files that changed, and one bad file never stops the others.

What must stay true:

- Accepted paths: files, folders (searched recursively, hidden folders and node_modules skipped)
  and glob patterns (`**` allowed). Only .md, .markdown, .mdx and .txt files are read.
- A file whose fingerprint (its bytes plus the chunking settings, so changing `max_chars` redoes
  everything) equals the stored one is skipped; a changed file's old chunks are replaced.
- A file that is unreadable, binary, not UTF-8 or empty is recorded in `IngestReport.skipped` with
  a reason a person can act on, and ingestion goes on. Store failures (`RetrievalError`) do abort:
  they are not about one file.
- A source is named by its path relative to the current directory when under it, else absolute,
  always with forward slashes, so the same file gets the same name on every run and platform.
- Files that disappeared from disk are not removed from the store (use `--reset` to prune).
"""

from __future__ import annotations

import glob
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from chatui.retrieval.chunking import Chunk, chunk_markdown, chunk_text
from chatui.retrieval.store import BATCH_SIZE, ChromaStore, FileChunks

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
TEXT_SUFFIXES = frozenset({".txt"})
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | TEXT_SUFFIXES
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})
_CHUNKER_VERSION = 1  # bump when chunking output changes, so every file is redone


class SkippedFile(NamedTuple):
    """A path that was not indexed, and why (written for the person who has to fix it)."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class IngestReport:
    files_seen: int
    files_indexed: int
    files_unchanged: int
    chunks_added: int
    skipped: tuple[SkippedFile, ...]
    duration_s: float


Outcome = Literal["indexed", "unchanged", "skipped"]


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """Sent to `on_progress` when a file is finished (indexed files: once stored, in batches)."""

    source: str
    done: int
    total: int
    outcome: Outcome
    chunks: int


def ingest_paths(
    paths: Sequence[str | Path],
    store: ChromaStore,
    *,
    max_chars: int = 1200,
    on_progress: Callable[[IngestProgress], None] | None = None,
) -> IngestReport:
    """Index every supported file under `paths` into `store`; see the module docstring."""
    started = time.perf_counter()
    files, skipped = find_files(paths)
    stored = store.source_hashes()
    pending: list[FileChunks] = []  # written together: Chroma's cost is mostly per call
    pending_chunks = indexed = unchanged = chunks_added = done = 0

    def report(source: str, outcome: Outcome, chunks: int = 0) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(IngestProgress(source, done, len(files), outcome, chunks))

    def flush() -> None:
        nonlocal chunks_added, indexed, pending_chunks
        chunks_added += store.replace_files(pending)
        indexed += len(pending)
        for item in pending:
            report(item.source, "indexed", len(item.chunks))
        pending.clear()
        pending_chunks = 0

    for path in files:
        source = source_name(path)
        loaded = _load(path, max_chars)
        if isinstance(loaded, str):
            skipped.append(SkippedFile(source, loaded))
            report(source, "skipped")
            continue
        text, fingerprint = loaded
        if stored.get(source) == fingerprint:
            unchanged += 1
            report(source, "unchanged")
            continue
        chunks = _chunk(path, text, source, max_chars)
        if isinstance(chunks, str):
            skipped.append(SkippedFile(source, chunks))
            report(source, "skipped")
            continue
        if pending and pending_chunks + len(chunks) > BATCH_SIZE:
            flush()  # keep each write to one Chroma call where files allow
        pending.append(FileChunks(source, fingerprint, tuple(chunks)))
        pending_chunks += len(chunks)
    if pending:
        flush()
    return IngestReport(
        files_seen=len(files),
        files_indexed=indexed,
        files_unchanged=unchanged,
        chunks_added=chunks_added,
        skipped=tuple(skipped),
        duration_s=time.perf_counter() - started,
    )


def find_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[SkippedFile]]:
    """The supported files named by `paths` (deduplicated, in a stable order) and the misses."""
    found: dict[str, Path] = {}
    missed: list[SkippedFile] = []

    def add(path: Path) -> None:
        found.setdefault(os.path.abspath(path), path)

    for raw in paths:
        text = os.fspath(raw)
        if isinstance(raw, str) and any(c in text for c in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            for match in map(Path, matches):
                if match.is_dir():
                    for path in _walk(match):
                        add(path)
                elif match.suffix.lower() in SUPPORTED_SUFFIXES and match.is_file():
                    add(match)
            if not matches:
                missed.append(SkippedFile(text, "the pattern matched no files"))
            continue
        path = Path(text)
        if path.is_dir():
            for found_path in _walk(path):
                add(found_path)
        elif not path.exists():
            missed.append(SkippedFile(text, "no such file or directory"))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            missed.append(
                SkippedFile(text, f"unsupported file type; chatui reads {_supported_list()}")
            )
        else:
            add(path)
    return list(found.values()), missed


def source_name(path: Path) -> str:
    """`path` relative to the current directory when under it, else absolute; "/"-separated."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


def file_fingerprint(data: bytes, max_chars: int) -> str:
    """What "unchanged" means: the same bytes, chunked by the same chunker with the same size."""
    digest = hashlib.sha256(f"chunker-v{_CHUNKER_VERSION}:{max_chars}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(names):
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(root, name)


def _load(path: Path, max_chars: int) -> tuple[str, str] | str:
    """(text, fingerprint), or the reason the file cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc}); check its permissions"
    if b"\0" in data[:8192]:
        return "looks binary (contains NUL bytes); only UTF-8 text files are read"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return (
            f"is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8, "
            "e.g. `iconv -f latin1 -t utf-8`"
        )
    if not text.strip():
        return "is empty"
    return text, file_fingerprint(data, max_chars)


def _chunk(path: Path, text: str, source: str, max_chars: int) -> list[Chunk] | str:
    chunker = chunk_markdown if path.suffix.lower() in MARKDOWN_SUFFIXES else chunk_text
    try:
        chunks = chunker(text, source, max_chars)
    except Exception as exc:  # a parser bug on one odd file must not stop the others
        return f"could not be chunked ({type(exc).__name__}: {exc}); please report this file"
    return chunks or "has no text to index"


def _supported_list() -> str:
    return ", ".join(sorted(SUPPORTED_SUFFIXES))
