"""ingest_paths(prune=True): files gone from disk leave the store, only inside the given paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatui.retrieval import ChromaStore, ingest_paths
from tests.retrieval.conftest import CORPUS


@pytest.fixture
def two_folders(docs: Path) -> Path:
    """./docs (the corpus) and ./other (a copy), with docs/sub/nested.md; cwd is their parent."""
    shutil.copytree(CORPUS, docs.parent / "other")
    (docs / "sub").mkdir()
    (docs / "sub" / "nested.md").write_text("# Nested\n\nDeep inside.")
    return docs.parent


def test_ingest_prune_removes_deleted_files_under_the_given_folder(
    two_folders: Path, store: ChromaStore
):
    ingest_paths(["docs"], store)
    (two_folders / "docs" / "install.md").unlink()
    kept = ingest_paths(["docs"], store)
    assert kept.pruned == () and "docs/install.md" in store.source_hashes()
    report = ingest_paths(["docs"], store, prune=True)
    assert report.pruned == ("docs/install.md",)
    assert "docs/install.md" not in store.source_hashes()
    assert (report.files_unchanged, report.files_indexed) == (4, 0)
    assert ingest_paths(["docs"], store, prune=True).pruned == ()  # idempotent


def test_ingest_prune_never_touches_sources_outside_the_given_paths(
    two_folders: Path, store: ChromaStore
):
    ingest_paths(["docs", "other"], store)
    (two_folders / "other" / "install.md").unlink()
    (two_folders / "docs" / "configuration.md").unlink()
    report = ingest_paths(["docs"], store, prune=True)
    assert report.pruned == ("docs/configuration.md",)
    assert "other/install.md" in store.source_hashes()  # gone from disk, but not ours to prune


def test_ingest_prune_with_a_glob_only_removes_what_the_glob_would_match(
    two_folders: Path, store: ChromaStore
):
    ingest_paths(["docs"], store)
    (two_folders / "docs" / "install.md").unlink()
    (two_folders / "docs" / "release-notes.txt").unlink()
    (two_folders / "docs" / "sub" / "nested.md").unlink()
    report = ingest_paths(["docs/*.md"], store, prune=True)
    assert report.pruned == ("docs/install.md",)
    assert {"docs/release-notes.txt", "docs/sub/nested.md"} <= set(store.source_hashes())
    assert ingest_paths(["docs/**/*.md"], store, prune=True).pruned == ("docs/sub/nested.md",)


def test_ingest_prune_of_a_named_file_or_a_deleted_folder(two_folders: Path, store: ChromaStore):
    ingest_paths(["docs", "other"], store)
    (two_folders / "docs" / "install.md").unlink()
    report = ingest_paths(["docs/install.md"], store, prune=True)
    assert report.pruned == ("docs/install.md",)
    assert dict(report.skipped) == {"docs/install.md": "no such file or directory"}
    shutil.rmtree(two_folders / "other")
    gone = ingest_paths(["other"], store, prune=True)
    assert len(gone.pruned) == 4 and all(s.startswith("other/") for s in gone.pruned)
    assert all(s.startswith("docs/") for s in store.source_hashes())


def test_ingest_prune_handles_absolute_sources_outside_the_working_directory(
    two_folders: Path, store: ChromaStore, monkeypatch: pytest.MonkeyPatch
):
    elsewhere = two_folders / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    other = two_folders / "other"
    ingest_paths([other], store)
    (other / "install.md").unlink()
    report = ingest_paths([other], store, prune=True)
    assert report.pruned == ((other / "install.md").as_posix(),)


def test_ingest_prune_does_not_mistake_a_sibling_with_a_common_prefix(
    two_folders: Path, store: ChromaStore
):
    (two_folders / "docs-old").mkdir()
    (two_folders / "docs-old" / "legacy.md").write_text("# Legacy\n\nOld.")
    ingest_paths(["docs", "docs-old"], store)
    shutil.rmtree(two_folders / "docs-old")
    assert ingest_paths(["docs"], store, prune=True).pruned == ()
    assert "docs-old/legacy.md" in store.source_hashes()


@pytest.mark.parametrize(
    ("given", "path", "inside"),
    [
        ("docs", "docs/a.md", True),
        ("docs", "docs/sub/b.md", True),
        ("docs", "docs-old/a.md", False),
        ("docs/a.md", "docs/a.md", True),
        ("docs/a.md", "docs/a.mdx", False),
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/sub/b.md", False),
        ("docs/**/*.md", "docs/sub/deeper/b.md", True),
        ("docs/**/*.md", "docs/a.md", True),
        ("docs/[!x]*.md", "docs/x.md", False),
        ("docs/?.md", "docs/ab.md", False),
        ("docs/*", "docs/sub/b.md", True),  # `docs/*` matched the folder docs/sub, which was walked
    ],
)
def test_prune_scope_is_exactly_what_a_path_or_glob_names(
    given: str, path: str, inside: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from chatui.retrieval.ingest import _scope

    monkeypatch.chdir(tmp_path)
    assert _scope(given)(str(tmp_path / path)) is inside
