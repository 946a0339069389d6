"""Fixtures for retrieval tests: the Quillmate fixture corpus and real Chroma stores in tmp_path.

The tripwire below fails any test in which Chroma's default (ONNX, downloading) embedder runs:
chatui must always pass its own vectors. It replaces nothing chatui calls; it only reports.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

from chatui.retrieval import ChromaStore

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(autouse=True)
def _no_default_embedder(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    calls: list[str] = []

    def tripwire(self: object, *args: object, **kwargs: object) -> None:
        calls.append(type(self).__name__)
        raise AssertionError("Chroma's default ONNX embedder was used; it downloads a model")

    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__call__", tripwire)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "_download_model_if_not_exists", tripwire)
    yield
    assert not calls, f"Chroma's default embedder ran {len(calls)} time(s)"


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
