"""HTTP routes for ingesting documents: start a job, follow its progress as server-sent events.

`POST /api/ingest` takes either uploaded files (multipart/form-data, field `files`, optional field
`collection`) or JSON `{"path": "...", "collection"?: "..."}` naming a file or folder inside
CHATUI_INGEST_ROOT, and answers 202 `{"job_id", "events_url"}`. `GET /api/ingest/{job_id}/events`
streams `progress`, then `complete` or `error`, as `text/event-stream` for EventSource clients
(`Last-Event-ID` resumes). Handlers stay thin: validation here, the work in `ingest_jobs`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from chatui.chat_request import check_collection
from chatui.config import Settings
from chatui.errors import ChatUIError, InputError
from chatui.ingest_jobs import JOBS as jobs
from chatui.ingest_jobs import IngestJob, allowed_path, upload_target, upload_too_large
from chatui.sse import ServerSentEvent
from chatui.sse_response import HEADERS

UPLOAD_CHUNK = 1024 * 1024


def ingest_routes(
    current_settings: Callable[[], Settings], error_response: Callable[[ChatUIError], Response]
) -> list[Route]:
    async def start(request: Request) -> Response:
        try:
            settings = current_settings()
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type == "multipart/form-data":
                settings, paths = await _save_uploads(request, settings)
            elif media_type == "application/json":
                settings, paths = await _server_path(request, settings)
            else:
                raise InputError(
                    "Upload files as multipart/form-data (field `files`) or send JSON "
                    '{"path": "..."} naming a folder inside CHATUI_INGEST_ROOT.',
                    code="unsupported_media_type",
                    http_status=415,
                )
        except ChatUIError as exc:
            return error_response(exc)
        job = jobs.start(paths, settings)
        url = f"/api/ingest/{job.id}/events"
        return JSONResponse({"job_id": job.id, "collection": job.collection, "events_url": url}, 202)

    async def events(request: Request) -> Response:
        job = jobs.get(request.path_params["job_id"])
        if job is None:
            missing = InputError("No ingest job has that id (jobs are kept until the server restarts).",
                                 code="job_not_found", http_status=404)
            return error_response(missing)
        last = request.headers.get("last-event-id", "0")
        after = int(last) if last.isdigit() else 0
        headers = {k.decode(): v.decode() for k, v in HEADERS if k != b"content-type"}
        return StreamingResponse(_encode(job, after), media_type="text/event-stream", headers=headers)

    return [
        Route("/api/ingest", start, methods=["POST"]),
        Route("/api/ingest/{job_id}/events", events, methods=["GET"]),
    ]


async def _encode(job: IngestJob, after: int) -> AsyncIterator[bytes]:
    async for event in job.follow(after):
        data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
        yield ServerSentEvent(data=data, event=event.kind, id=str(event.sequence)).encode()


def _for_collection(settings: Settings, collection: object) -> Settings:
    if collection in (None, ""):
        return settings
    if not isinstance(collection, str):
        raise InputError("`collection` must be a string.", code="invalid_request")
    check_collection(collection)
    return settings.model_copy(update={"collection": collection})


async def _server_path(request: Request, settings: Settings) -> tuple[Settings, list[Path]]:
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The body is not valid JSON: {exc}.", code="invalid_json") from None
    if not isinstance(body, dict) or not isinstance(body.get("path"), str) or not body["path"].strip():
        raise InputError('Send {"path": "docs"}: a file or folder inside CHATUI_INGEST_ROOT.',
                         code="invalid_request")
    settings = _for_collection(settings, body.get("collection"))
    return settings, [allowed_path(body["path"], settings.ingest_root)]


async def _save_uploads(request: Request, settings: Settings) -> tuple[Settings, list[Path]]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes:
        raise upload_too_large(settings)
    form = await request.form(max_files=1000, max_fields=10, max_part_size=settings.max_upload_bytes)
    try:
        settings = _for_collection(settings, form.get("collection"))
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not uploads:
            raise InputError("Attach at least one file in the `files` field.", code="no_files")
        saved, total = [], 0
        for upload in uploads:
            target = upload_target(settings, upload.filename or "")
            with target.open("wb") as out:
                while chunk := await upload.read(UPLOAD_CHUNK):
                    total += len(chunk)
                    if total > settings.max_upload_bytes:
                        raise upload_too_large(settings)
                    out.write(chunk)
            saved.append(target)
        return settings, saved
    finally:
        await form.close()
