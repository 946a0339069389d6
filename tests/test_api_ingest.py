"""Ingesting through the API over a real socket: uploads, server-side paths inside the allowed root,
progress as server-sent events, refusals."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatui.api import create_api
from chatui.config import Settings
from chatui.sse import SSEDecoder, ServerSentEvent
from tests.conftest import FIXTURE_DOCS, test_settings
from tests.servers import ServerThread


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "shared-docs"
    folder.mkdir()
    (folder / "handbook.md").write_text("# Handbook\n\n## Expenses\n\nFile expenses in Ledgerly within 30 days.\n")
    (folder / "notes.txt").write_text("The cafeteria opens at eight.\n")
    return folder


@pytest.fixture
def settings(tmp_path: Path, root: Path) -> Settings:
    return test_settings(tmp_path / "data", ingest_root=root, max_upload_bytes=200_000)


@pytest.fixture
def api(settings: Settings) -> Iterator[str]:
    server = ServerThread(create_api(settings)).start()
    yield server.base_url
    server.stop()


def follow(url: str, headers: dict[str, str] | None = None) -> list[ServerSentEvent]:
    decoder, events = SSEDecoder(), []
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_raw():
            events += decoder.feed(chunk)
    return events


def test_api_ingest_uploads_stream_progress_then_complete_and_become_searchable(api: str):
    files = [
        ("files", ("install.md", (FIXTURE_DOCS / "install.md").read_bytes(), "text/markdown")),
        ("files", ("notes.txt", b"Quillmate's mascot is a quill named Penny.\n", "text/plain")),
    ]
    started = httpx.post(f"{api}/api/ingest", files=files, data={"collection": "uploads"})
    assert started.status_code == 202
    job = started.json()
    assert job["collection"] == "uploads"

    events = follow(api + job["events_url"])
    kinds = [e.event for e in events]
    assert kinds[0] == "progress" and kinds[-1] == "complete" and set(kinds[:-1]) == {"progress"}
    progress = [json.loads(e.data) for e in events[:-1]]
    assert {"stage", "pct", "file"} <= progress[-1].keys() and progress[-1]["pct"] == 100.0
    complete = json.loads(events[-1].data)
    assert complete["files_indexed"] == 2 and complete["chunks"] > 2 and complete["duration_s"] >= 0
    assert [e.id for e in events] == [str(n) for n in range(1, len(events) + 1)]

    body = {"message": "What is the name of the mascot?", "collection": "uploads", "provider": "offline"}
    with httpx.stream("POST", f"{api}/api/chat/stream", json=body, timeout=30) as response:
        text = response.read().decode()
    assert "notes.txt" in text and "Penny" in text


def test_api_ingest_reads_a_folder_inside_the_allowed_root(api: str):
    started = httpx.post(f"{api}/api/ingest", json={"path": ".", "collection": "handbook"})
    assert started.status_code == 202
    events = follow(api + started.json()["events_url"])
    complete = json.loads(events[-1].data)
    assert events[-1].event == "complete" and complete["files_indexed"] == 2

    resumed = follow(api + started.json()["events_url"], headers={"Last-Event-ID": str(len(events) - 1)})
    assert [e.event for e in resumed] == ["complete"], "Last-Event-ID resumes after that event"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("..", 403, "path_not_allowed"),
        ("../../etc/passwd", 403, "path_not_allowed"),
        ("/etc", 403, "path_not_allowed"),
        ("escape-link", 403, "path_not_allowed"),
        ("missing.md", 404, "path_not_found"),
    ],
)
def test_api_ingest_refuses_paths_outside_the_allowed_root(
    api: str, root: Path, tmp_path: Path, path: str, status: int, code: str
):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "keys.md").write_text("top secret")
    os.symlink(secret, root / "escape-link")
    response = httpx.post(f"{api}/api/ingest", json={"path": path})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_api_ingest_paths_are_off_without_a_configured_root(tmp_path: Path):
    server = ServerThread(create_api(test_settings(tmp_path / "data"))).start()
    try:
        response = httpx.post(f"{server.base_url}/api/ingest", json={"path": "."})
    finally:
        server.stop()
    assert response.status_code == 403
    assert "CHATUI_INGEST_ROOT" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        (dict(files=[("files", ("tool.exe", b"MZ\x90", "application/octet-stream"))]), 415, "unsupported_file"),
        (dict(files=[("files", ("big.md", b"x" * 300_000, "text/markdown"))]), 413, "upload_too_large"),
        (dict(data={"collection": "docs"}, files=[("other", ("a.md", b"# A", "text/markdown"))]), 400, "no_files"),
        (dict(json={"path": "."}, headers={}), 202, None),
        (dict(content=b"path=.", headers={"content-type": "text/plain"}), 415, "unsupported_media_type"),
        (dict(json={"path": ".", "collection": "no"}), 400, "invalid_collection"),
        (dict(json={"nope": 1}), 400, "invalid_request"),
    ],
)
def test_api_ingest_bad_requests_get_clear_errors(api: str, request_kwargs: dict, status: int, code: str | None):
    response = httpx.post(f"{api}/api/ingest", **request_kwargs)
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code


def test_api_ingest_unknown_job_is_404(api: str):
    response = httpx.get(f"{api}/api/ingest/nope/events")
    assert response.status_code == 404 and response.json()["error"]["code"] == "job_not_found"
