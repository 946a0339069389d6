"""Fixtures for the whole suite: a hermetic environment, the fake upstream, a fixture knowledge base.

- The developer's own chatui/OpenAI/Anthropic variables are removed at import, so no test reads a
  real key or a real base URL (and the network guard in pyproject refuses non-loopback hosts).
- A tripwire fails any test in which Chroma's default embedder runs (it downloads an ONNX model):
  chatui always passes its own vectors. It replaces nothing chatui calls; it only reports.
- `kb_settings`: settings whose knowledge base holds tests/fixtures/docs (an imaginary product,
  Quillmate), ingested once per session; the offline model is unpaced and the rate limit off.
"""

from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

from chatui.config import Settings
from chatui.providers import close_providers
from tests.fakes.upstream import FakeUpstream

FIXTURE_DOCS = Path(__file__).parent / "fixtures" / "docs"

for _name in list(os.environ):
    if _name.startswith(("CHATUI_", "OPENAI_", "ANTHROPIC_", "CHROMA_")):
        del os.environ[_name]


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def upstream(_upstream_server: FakeUpstream) -> FakeUpstream:
    _upstream_server.reset()
    return _upstream_server


@pytest.fixture
async def _close_provider_clients() -> AsyncIterator[None]:
    """Each test's event loop closes the SDK clients built on it, as the app does at shutdown."""
    yield
    await close_providers()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Only async tests build SDK clients on a loop of pytest-asyncio's; sync tests (e.g. the
    # browser tests, whose Playwright runs a loop of its own) must not get an async fixture.
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.function):
            item.fixturenames.append("_close_provider_clients")
    # The slow end-to-end tests run last, so the fast suite reports first.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


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


def test_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests: no .env, unpaced offline model, no rate limit."""
    values: dict[str, object] = dict(data_dir=data_dir, offline_tokens_per_s=0, rate_limit="0")
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[arg-type]


test_settings.__test__ = False  # a helper, not a test


def changed(settings: Settings, **updates: object) -> Settings:
    """A validated copy of `settings` with some fields changed (model_copy would skip validation)."""
    return Settings(_env_file=None, **(settings.model_dump() | updates))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from chatui.retrieval import ChromaStore, ingest_paths

    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(FIXTURE_DOCS, root / "docs")
    settings = test_settings(root / "data")
    here = Path.cwd()
    os.chdir(root)  # sources are stored relative to the working directory: "docs/install.md"
    try:
        with ChromaStore.open(settings.chroma_dir, settings.collection) as store:
            report = ingest_paths(["docs"], store)
    finally:
        os.chdir(here)
    assert report.files_indexed == 4 and not report.skipped
    return settings
