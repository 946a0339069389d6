"""The Docs page's state: what the knowledge base holds, uploads, and a live ingest progress.

Uploads are saved (base names only) and indexed by an `ingest_jobs` job, the same machinery as
`POST /api/ingest`; a background event follows the job and mirrors its progress into fields.
What must stay true: no blocking call on the event loop (listing and counting run in a thread);
the page shows the fix-it message of a failed job; nothing here decides how ingest works.
"""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from chatui.chat_request import check_collection
from chatui.config import Settings, get_settings
from chatui.errors import ChatUIError
from chatui.ingest_jobs import JOBS, last_ingest, upload_target, upload_too_large
from chatui.pipeline import open_knowledge_base
from chatui.retrieval.ingest import SUPPORTED_SUFFIXES

UPLOAD_ID = "docs-upload"


@dataclasses.dataclass
class Skipped:
    path: str = ""
    reason: str = ""


class DocsState(rx.State):
    collection: str = ""
    files: list[str] = []
    chunks: int = 0
    last_ingest: str = ""
    job_id: str = ""
    ingesting: bool = False
    progress: float = 0.0
    current_file: str = ""
    outcome: str = ""
    error: str = ""
    skipped: list[Skipped] = []

    def _settings(self) -> Settings:
        settings = get_settings()
        if self.collection and self.collection != settings.collection:
            return settings.model_copy(update={"collection": self.collection})
        return settings

    @rx.event
    async def refresh(self):
        settings = self._settings()
        self.collection = settings.collection
        try:
            store = await open_knowledge_base(settings)
            self.files = sorted(await asyncio.to_thread(lambda: list(store.source_hashes())))
            self.chunks = await asyncio.to_thread(store.count)
        except ChatUIError as exc:
            self.error = exc.message
        self.last_ingest = last_ingest(settings)

    @rx.event
    async def open_collection(self, form_data: dict[str, str]):
        name = str(form_data.get("collection", ""))
        try:
            check_collection(name.strip())
        except ChatUIError as exc:
            self.error = exc.message
            return
        self.collection, self.error = name.strip(), ""
        return DocsState.refresh

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        if self.ingesting:
            return
        settings = self._settings()
        saved = []
        self.error, self.outcome, self.skipped = "", "", []
        budget = settings.max_upload_bytes  # for all files of one upload, as POST /api/ingest
        for upload in files:
            try:
                target = upload_target(settings, upload.name or "")
            except ChatUIError as exc:
                self.skipped.append(Skipped(str(upload.name), exc.message))
                continue
            data = await upload.read(budget + 1)
            if len(data) > budget:
                self.skipped.append(Skipped(str(upload.name), upload_too_large(settings).message))
                continue
            budget -= len(data)
            await asyncio.to_thread(target.write_bytes, data)
            saved.append(target)
        if not saved:
            self.error = f"Nothing to index: choose {', '.join(sorted(SUPPORTED_SUFFIXES))} files."
            return
        job = JOBS.start(saved, settings)
        self.job_id, self.ingesting, self.progress, self.current_file = job.id, True, 0.0, ""
        return [rx.clear_selected_files(UPLOAD_ID), DocsState.follow_job]

    @rx.event(background=True)
    async def follow_job(self):
        job = JOBS.get(self.job_id)
        if job is None:
            return
        async for event in job.follow():
            async with self:
                data = event.data
                if event.kind == "progress":
                    self.progress, self.current_file = data["pct"], data["file"]
                elif event.kind == "complete":
                    self.ingesting, self.progress = False, 100.0
                    self.outcome = (
                        f"Indexed {data['files_indexed']} file(s), {data['chunks']} chunks, "
                        f"in {data['duration_s']:.1f} s."
                    )
                    self.skipped += [Skipped(s["path"], s["reason"]) for s in data["skipped"]]
                else:
                    self.ingesting, self.error = False, data["message"]
        yield DocsState.refresh
