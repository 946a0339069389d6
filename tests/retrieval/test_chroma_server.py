"""The scale-out path: the knowledge base on a real Chroma server (`chroma run`, started here)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatui.pipeline import answer
from chatui.retrieval import ChromaStore, ingest_paths
from tests.conftest import FIXTURE_DOCS, test_settings


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma command comes with the chromadb package"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "chroma run did not start"
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_chroma_server_mode_ingests_searches_and_answers(chroma_server, tmp_path: Path, monkeypatch):
    host, port = chroma_server
    settings = test_settings(tmp_path / "data", chroma_host=host, chroma_port=port, collection="server-docs")
    shutil.copytree(FIXTURE_DOCS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    with ChromaStore.from_settings(settings) as store:
        report = ingest_paths(["docs"], store)
        assert report.files_indexed == 4
        assert "server-docs" in store.collection_names()
    assert not (settings.chroma_dir / "chroma.sqlite3").exists(), "nothing went to the embedded database"

    events = [e async for e in answer("How do I install Quillmate with pip?", settings=settings)]
    citations = [e for e in events if e.kind == "citation"]
    assert citations and citations[0].source == "docs/install.md"
    assert events[-1].finish_reason == "stop"


def test_chroma_server_mode_unreachable_server_says_what_to_check(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    settings = test_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=port)
    from chatui.errors import RetrievalError

    with pytest.raises(RetrievalError, match="CHROMA_HOST"):
        ChromaStore.from_settings(settings)
