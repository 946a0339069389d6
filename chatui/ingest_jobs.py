"""Ingest jobs for the web: run `ingest_paths` in the background and publish its progress.

The API (`POST /api/ingest`, `GET /api/ingest/{id}/events`) and the Docs page both start jobs here
and follow them through `IngestJob.follow()`. What must stay true:

- A job's events are `progress {stage, pct, file}`, then exactly one `complete {duration_s,
  files_indexed, chunks, ...}` or `error {code, message}`, last. Every follower sees every event
  from the one it asks for (a late follower gets the history first), so a reconnecting
  EventSource (Last-Event-ID) misses nothing.
- The work runs in a thread (`asyncio.to_thread`): Chroma and the embedder are blocking; the event
  loop never is. Progress crosses back with `call_soon_threadsafe`.
- Server-side paths are read only inside the configured root (CHATUI_INGEST_ROOT), after resolving
  symlinks and `..`; uploads are saved under the data dir with their base name only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from chatui.config import Settings
from chatui.errors import ChatUIError, InputError
from chatui.pipeline import open_knowledge_base

log = logging.getLogger(__name__)
JobEventKind = Literal["progress", "complete", "error"]
KEEP_JOBS = 50
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True, slots=True)
class JobEvent:
    sequence: int
    kind: JobEventKind
    data: dict[str, Any]


@dataclass
class IngestJob:
    id: str
    collection: str
    events: list[JobEvent] = field(default_factory=list)
    finished: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def emit(self, kind: JobEventKind, **data: Any) -> None:
        self.events.append(JobEvent(len(self.events) + 1, kind, data))
        self.finished = kind != "progress"
        self._changed.set()

    async def follow(self, after: int = 0) -> AsyncIterator[JobEvent]:
        """Every event after sequence number `after`, as they happen, until the job ends."""
        seen = after
        while True:
            while seen < len(self.events):
                seen += 1
                yield self.events[seen - 1]
            if self.finished:
                return
            self._changed.clear()
            if seen == len(self.events):  # nothing arrived while we were yielding
                await self._changed.wait()


class IngestJobs:
    """The jobs of this process (the most recent KEEP_JOBS are kept for late followers)."""

    def __init__(self) -> None:
        self._jobs: dict[str, IngestJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> IngestJob | None:
        return self._jobs.get(job_id)

    def start(self, paths: Sequence[Path], settings: Settings) -> IngestJob:
        job = IngestJob(id=uuid.uuid4().hex[:16], collection=settings.collection)
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_JOBS:
            del self._jobs[next(iter(self._jobs))]
        task = asyncio.create_task(_run(job, list(paths), settings), name=f"ingest-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job


async def _run(job: IngestJob, paths: list[Path], settings: Settings) -> None:
    from chatui.retrieval import ingest_lock, ingest_paths

    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    job.emit("progress", stage="scanning", pct=0.0, file="")

    def on_progress(progress: Any) -> None:
        pct = round(100 * progress.done / progress.total, 1) if progress.total else 100.0
        loop.call_soon_threadsafe(
            lambda: job.emit("progress", stage="indexing", pct=pct, file=progress.source, outcome=progress.outcome)
        )

    def waiting() -> None:
        loop.call_soon_threadsafe(lambda: job.emit("progress", stage="waiting", pct=0.0, file=""))

    def ingest(store: Any) -> Any:
        with ingest_lock(settings.data_dir, on_wait=waiting):  # one writer, CLI or web
            return ingest_paths(
                paths,
                store,
                max_chars=settings.chunk_chars,
                overlap=settings.chunk_overlap,
                on_progress=on_progress,
            )

    try:
        store = await open_knowledge_base(settings)
        report = await asyncio.to_thread(ingest, store)
        chunks = await asyncio.to_thread(store.count)
    except ChatUIError as exc:
        await asyncio.sleep(0)  # let queued progress land before the last event
        job.emit("error", code=exc.code, message=exc.message)
        return
    except Exception as exc:  # a bug: say so, keep the stream well-formed
        log.exception("ingest job %s failed", job.id)
        job.emit("error", code="internal", message=f"Ingest failed unexpectedly ({type(exc).__name__}: {exc}).")
        return
    await asyncio.sleep(0)
    record_last_ingest(settings)
    job.emit(
        "complete",
        duration_s=round(time.perf_counter() - started, 3),
        files_indexed=report.files_indexed,
        files_unchanged=report.files_unchanged,
        chunks=report.chunks_added,
        total_chunks=chunks,
        skipped=[{"path": s.path, "reason": s.reason} for s in report.skipped],
    )


JOBS = IngestJobs()  # the process's jobs, shared by the API and the Docs page


def allowed_path(requested: str, root: Path | None) -> Path:
    """`requested` resolved inside `root`, or an `InputError` (403) saying why not."""
    if root is None:
        raise InputError(
            "Ingesting server-side paths is turned off. Set CHATUI_INGEST_ROOT to the folder "
            "chatui may read from, or upload the files instead.",
            code="path_not_allowed",
            http_status=403,
        )
    base = root.expanduser().resolve()
    candidate = Path(requested).expanduser()
    resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if not resolved.is_relative_to(base):
        raise InputError(
            f"{requested!r} is outside the folder chatui may read ({base}, CHATUI_INGEST_ROOT).",
            code="path_not_allowed",
            http_status=403,
        )
    if not resolved.exists():
        raise InputError(f"{requested!r} does not exist under {base}.", code="path_not_found", http_status=404)
    return resolved


def upload_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads" / settings.collection


def safe_upload_name(filename: str) -> str:
    """The base name of an uploaded file, with anything but ordinary characters replaced."""
    name = _UNSAFE_NAME.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    if not name:
        raise InputError(f"The upload name {filename!r} is not a usable file name.", code="bad_upload_name")
    return name


def upload_target(settings: Settings, filename: str) -> Path:
    """Where an uploaded file is saved: its safe base name in the upload folder, if chatui reads
    that kind of file; else an `InputError` (415) saying which kinds it reads."""
    from chatui.retrieval.ingest import SUPPORTED_SUFFIXES

    name = safe_upload_name(filename)
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise InputError(f"{name}: this kind of file is not supported ({supported}).",
                         code="unsupported_file", http_status=415)
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def upload_too_large(settings: Settings) -> InputError:
    """The error for an upload over CHATUI_MAX_UPLOAD_BYTES (all files of one upload together)."""
    return InputError(
        f"The upload is larger than {settings.max_upload_bytes:,} bytes (CHATUI_MAX_UPLOAD_BYTES).",
        code="upload_too_large",
        http_status=413,
    )


def record_last_ingest(settings: Settings) -> None:
    marker = settings.data_dir / f"last-ingest-{settings.collection}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(time.strftime("%Y-%m-%d %H:%M:%S %Z"))


def last_ingest(settings: Settings) -> str:
    marker = settings.data_dir / f"last-ingest-{settings.collection}"
    return marker.read_text() if marker.exists() else "never"
