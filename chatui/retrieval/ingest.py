"""Load documents from disk into the knowledge base: find files, chunk them, store them.

Why this exists: `chatui ingest PATH...` must be safe to re-run on a docs folder at any time. It
only redoes files that changed, and one bad file never stops the others.

What must stay true:

- Accepted paths: files, folders (searched recursively, hidden folders and node_modules skipped)
  and glob patterns (`**` allowed). Only the suffixes `loaders.LOADERS` knows are read.
- A file whose fingerprint (its bytes plus the loader/chunker version and the chunking settings,
  so changing `max_chars` or `overlap` redoes everything) equals the stored one is skipped before
  it is parsed; a changed file's old chunks are replaced.
- A file that is unreadable, binary, not UTF-8, empty or a broken PDF is recorded in
  `IngestReport.skipped` with a reason a person can act on, and ingestion goes on; so does a file a
  parser crashes on. Store failures (`RetrievalError`) do abort: they are not about one file.
- A source is named by its path relative to the current directory when under it, else absolute,
  always with forward slashes, so the same file gets the same name on every run and platform.
- `prune=True` removes stored sources that no longer exist on disk, but only those inside the
  given paths (under a given folder, equal to a given file, or matching a given glob). A source
  outside them is never touched, whatever else the store holds.
- Whoever writes to a persistent store (the CLI, a web ingest job) holds `ingest_lock(data_dir)`
  around opening (and resetting) the store and ingesting, so two ingests never interleave their
  writes: the second waits, or fails after a timeout with a message saying so. The lock is an OS
  file lock, released by the kernel if the holder dies, so it never goes stale.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal, NamedTuple

from chatui.errors import RetrievalError
from chatui.retrieval.chunking import Chunk, chunk_markdown, chunk_text
from chatui.retrieval.loaders import SUPPORTED_SUFFIXES, UnreadableFile, load_document
from chatui.retrieval.store import BATCH_SIZE, ChromaStore, FileChunks

_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})
_CHUNKER_VERSION = 2  # bump when loader or chunker output changes, so every file is redone
LOCK_FILE = "ingest.lock"


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
    pruned: tuple[str, ...] = ()  # sources removed because their file is gone (`prune=True`)


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
    overlap: int = 0,
    prune: bool = False,
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

    def skip(source: str, reason: str) -> None:
        skipped.append(SkippedFile(source, reason))
        report(source, "skipped")

    for path in files:
        source = source_name(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            skip(source, f"cannot be read ({exc.strerror or exc}); check its permissions")
            continue
        fingerprint = file_fingerprint(data, max_chars, overlap)
        if stored.get(source) == fingerprint:
            unchanged += 1
            report(source, "unchanged")
            continue
        chunks = _chunk(path.suffix, data, source, max_chars, overlap)
        if isinstance(chunks, str):
            skip(source, chunks)
            continue
        if pending and pending_chunks + len(chunks) > BATCH_SIZE:
            flush()  # keep each write to one Chroma call where files allow
        pending.append(FileChunks(source, fingerprint, tuple(chunks)))
        pending_chunks += len(chunks)
    if pending:
        flush()
    pruned = _prune(paths, stored, store) if prune else ()
    return IngestReport(
        files_seen=len(files),
        files_indexed=indexed,
        files_unchanged=unchanged,
        chunks_added=chunks_added,
        skipped=tuple(skipped),
        duration_s=time.perf_counter() - started,
        pruned=pruned,
    )


@contextmanager
def ingest_lock(
    data_dir: Path, *, timeout_s: float = 300.0, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Be the only ingest writing to the knowledge base in `data_dir` while inside.

    If another process holds the lock, `on_wait` is called (say so to the user) and this waits up
    to `timeout_s` seconds (a negative value: forever), then raises a retryable `RetrievalError`.
    """
    from filelock import FileLock, Timeout

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(Path(data_dir) / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait()
        try:
            lock.acquire(timeout=timeout_s)
        except Timeout:
            raise RetrievalError(
                f"Another chatui ingest has been writing to the knowledge base in {data_dir} "
                f"for more than {timeout_s:g} s. Run this again when it has finished (files it "
                "indexed are skipped), or wait longer (`chatui ingest --wait SECONDS`).",
                retryable=True,
            ) from None
    try:
        yield
    finally:
        lock.release()


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


def file_fingerprint(data: bytes, max_chars: int, overlap: int = 0) -> str:
    """What "unchanged" means: the same bytes, loaded and chunked the same way."""
    digest = hashlib.sha256(f"chunker-v{_CHUNKER_VERSION}:{max_chars}:{overlap}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(names):
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(root, name)


def _chunk(
    suffix: str, data: bytes, source: str, max_chars: int, overlap: int
) -> list[Chunk] | str:
    """The file's chunks, or the reason it cannot be indexed."""
    try:
        document = load_document(suffix, data)
        chunker = chunk_markdown if document.markdown else chunk_text
        chunks = chunker(document.text, source, max_chars, overlap=overlap, title=document.title)
    except UnreadableFile as exc:
        return exc.reason
    except Exception as exc:  # a parser bug on one odd file must not stop the others
        return f"could not be parsed ({type(exc).__name__}: {exc}); please report this file"
    return chunks or "has no text to index"


def _prune(
    paths: Sequence[str | Path], stored: dict[str, str], store: ChromaStore
) -> tuple[str, ...]:
    """Remove the stored sources inside `paths` whose files are gone; return them."""
    scopes = [_scope(raw) for raw in paths]
    gone = sorted(
        source
        for source in stored
        if not os.path.exists(source)  # relative sources are relative to the current directory
        and any(inside(os.path.abspath(source)) for inside in scopes)
    )
    if gone:
        store.replace_files([FileChunks(source, "", ()) for source in gone])  # one delete call
    return tuple(gone)


def _scope(raw: str | Path) -> Callable[[str], bool]:
    """Whether an absolute path lies inside what `raw` (a file, folder or glob) names."""
    text = os.path.abspath(os.fspath(raw))
    if isinstance(raw, str) and any(c in raw for c in "*?["):
        pattern = _glob_pattern(text)
        return lambda path: any(
            pattern.fullmatch(str(p)) for p in (PurePath(path), *PurePath(path).parents)
        )
    folder = text.rstrip(os.sep) + os.sep
    return lambda path: path == text or path.startswith(folder)


def _glob_pattern(pattern: str) -> re.Pattern[str]:
    """`glob`'s syntax as a regex: `**/` any folders, `*` and `?` within one name, `[...]`."""
    sep, out, i = re.escape(os.sep), [], 0
    while i < len(pattern):
        if pattern.startswith("**" + os.sep, i):
            out.append(f"(?:.*{sep})?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append(f"[^{sep}]*" if pattern[i] == "*" else f"[^{sep}]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            body = "^" + body[1:] if body[0] == "!" else "\\^" + body[1:] if body[0] == "^" else body
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _supported_list() -> str:
    return ", ".join(sorted(SUPPORTED_SUFFIXES))
