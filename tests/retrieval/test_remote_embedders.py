"""Choosing the embedder: an OpenAI-compatible embeddings endpoint (the fake upstream's), and
MiniLM only when its files are already on disk (nothing downloads)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatui.errors import ConfigError, RetrievalError
from chatui.pipeline import answer
from chatui.retrieval import ChromaStore, ingest_paths
from chatui.retrieval.remote_embedders import MiniLMEmbedder, OpenAIEmbedder, embedder_from_settings
from tests.conftest import FIXTURE_DOCS, test_settings
from tests.fakes.upstream import FakeUpstream


async def test_openai_embedder_indexes_and_answers_through_the_embeddings_endpoint(
    upstream: FakeUpstream, tmp_path: Path, monkeypatch
):
    settings = test_settings(tmp_path / "data", embedder="openai", embedding_model="text-embedding-3-small",
                             openai_api_key="sk-test", openai_base_url=upstream.openai_base_url)
    shutil.copytree(FIXTURE_DOCS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    with ChromaStore.from_settings(settings) as store:
        assert store.embedder.name == "openai:text-embedding-3-small"
        assert ingest_paths(["docs"], store).files_indexed == 4
    assert upstream.embedding_requests and upstream.embedding_requests[0]["model"] == "text-embedding-3-small"

    events = [e async for e in answer("How do I install Quillmate with pip?", settings=settings)]
    assert [e for e in events if e.kind == "citation"][0].source == "docs/install.md"


def test_openai_embedder_failure_says_what_to_check(tmp_path: Path):
    embedder = OpenAIEmbedder("m", api_key="sk-test", base_url="http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(RetrievalError, match="CHATUI_EMBEDDER=wordllama"):
        embedder.embed(["hello"])


def test_switching_embedders_asks_to_reingest(upstream: FakeUpstream, tmp_path: Path, monkeypatch):
    shutil.copytree(FIXTURE_DOCS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    offline = test_settings(tmp_path / "data")
    with ChromaStore.from_settings(offline) as store:
        ingest_paths(["docs"], store)
    remote = test_settings(tmp_path / "data", embedder="openai", openai_api_key="sk-test",
                           openai_base_url=upstream.openai_base_url)
    with pytest.raises(RetrievalError, match="ingest"):
        ChromaStore.from_settings(remote)


def test_openai_embedder_needs_a_key_or_a_base_url(tmp_path: Path):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        embedder_from_settings(test_settings(tmp_path, embedder="openai"))


def test_minilm_is_used_only_when_already_on_disk(tmp_path: Path, monkeypatch):
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    monkeypatch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", tmp_path / "no-model-here")
    with pytest.raises(ConfigError, match="never downloads"):
        MiniLMEmbedder()
