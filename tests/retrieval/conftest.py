"""Fixtures for retrieval tests: the Quillmate fixture corpus and real Chroma stores in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatui.retrieval import ChromaStore

CORPUS = Path(__file__).parent.parent / "fixtures" / "docs"


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the corpus at ./docs, with the working directory at its parent."""
    shutil.copytree(CORPUS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "docs"


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "chroma"


@pytest.fixture
def store(store_dir: Path) -> Iterator[ChromaStore]:
    with ChromaStore.open(store_dir, "docs") as opened:
        yield opened


FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"


@pytest.fixture
def formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the format samples at ./formats, plus a generated two-page PDF."""
    from tests.retrieval.pdfs import make_pdf

    shutil.copytree(FORMATS, tmp_path / "formats")
    (tmp_path / "formats" / "admin-manual.pdf").write_bytes(
        make_pdf(
            [
                ["Backups", "Quillmate backs up every notebook nightly at 02:00."],
                ["Restoring", "Run quillmate restore --from latest to restore a backup."],
            ],
            title="Quillmate Admin Manual",
        )
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path / "formats"
