"""ingest_paths: finds files, skips unchanged ones, replaces changed ones, survives bad files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chatui.retrieval import ChromaStore, IngestProgress, IngestReport, SkippedFile, ingest_paths
from chatui.retrieval.ingest import find_files, source_name

CORPUS_SOURCES = {
    "docs/configuration.md",
    "docs/install.md",
    "docs/release-notes.txt",
    "docs/troubleshooting.md",
}


def test_ingest_folder_indexes_every_supported_file_with_relative_sources(
    docs: Path, store: ChromaStore
):
    (docs / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (docs / ".hidden").mkdir()
    (docs / ".hidden" / "secret.md").write_text("# Secret\n\nnot indexed")
    report = ingest_paths(["docs"], store)
    assert isinstance(report, IngestReport)
    assert (report.files_seen, report.files_indexed, report.files_unchanged) == (4, 4, 0)
    assert report.chunks_added == store.count() > 4
    assert report.skipped == ()
    assert report.duration_s > 0
    assert set(store.source_hashes()) == CORPUS_SOURCES


def test_ingest_accepts_files_globs_and_deduplicates(docs: Path, store: ChromaStore):
    report = ingest_paths(
        ["docs/install.md", Path("docs/install.md"), "docs/**/*.md", str(docs / "install.md")],
        store,
    )
    assert report.files_seen == 3
    assert set(store.source_hashes()) == CORPUS_SOURCES - {"docs/release-notes.txt"}


def test_ingest_second_run_skips_unchanged_files(docs: Path, store: ChromaStore):
    first = ingest_paths(["docs"], store)
    ids_before = store.count()
    second = ingest_paths(["docs"], store)
    assert (second.files_seen, second.files_indexed, second.files_unchanged) == (4, 0, 4)
    assert second.chunks_added == 0
    assert store.count() == ids_before == first.chunks_added


async def test_ingest_replaces_the_chunks_of_a_changed_file(docs: Path, store: ChromaStore):
    ingest_paths(["docs"], store)
    before = store.count()
    old_chunks = (await store.search("brew tap homebrew mac", k=1))[0]
    install = docs / "install.md"
    install.write_text(
        install.read_text().replace("Homebrew", "MacPorts").replace("brew tap quillmate/tap\n", "")
    )
    report = ingest_paths(["docs"], store)
    assert (report.files_indexed, report.files_unchanged) == (1, 3)
    assert store.count() == before  # same number of sections: replaced, not added
    passages = await store.search("install on a mac with macports", k=20)
    assert old_chunks.chunk_id not in {p.chunk_id for p in passages}
    assert not any("Homebrew" in p.text for p in passages)
    assert passages[0].title == "Installing Quillmate > On a Mac with MacPorts"


def test_ingest_redoes_files_when_chunk_size_changes(docs: Path, store: ChromaStore):
    ingest_paths(["docs"], store, max_chars=1200)
    report = ingest_paths(["docs"], store, max_chars=300)
    assert report.files_indexed == 4
    assert store.count() == report.chunks_added


def test_ingest_skips_bad_files_with_reasons_and_indexes_the_rest(docs: Path, store: ChromaStore):
    bad = docs / "bad"
    bad.mkdir()
    (bad / "binary.md").write_bytes(b"# Title\0\x01\x02 binary junk")
    (bad / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    (bad / "empty.md").write_text("")
    (bad / "blank.txt").write_text(" \n\n\t\n")
    (bad / "dangling.md").symlink_to(bad / "does-not-exist.md")
    (bad / "bom.md").write_bytes("\ufeff# With BOM\n\nfine".encode())
    Path("manual.pdf").write_bytes(b"%PDF-1.7")  # a header and nothing else
    Path("manual.docx").write_bytes(b"PK\x03\x04")
    report = ingest_paths(
        ["docs", "nowhere/missing.md", "docs/*.pdf", "manual.pdf", "manual.docx"], store
    )
    reasons = dict(report.skipped)
    assert all(isinstance(s, SkippedFile) for s in report.skipped)
    assert "binary" in reasons["docs/bad/binary.md"]
    assert "UTF-8" in reasons["docs/bad/latin1.txt"]
    assert "empty" in reasons["docs/bad/empty.md"]
    assert "empty" in reasons["docs/bad/blank.txt"]
    assert "cannot be read" in reasons["docs/bad/dangling.md"]
    assert "no such file" in reasons["nowhere/missing.md"]
    assert "matched no files" in reasons["docs/*.pdf"]
    assert "not a readable PDF" in reasons["manual.pdf"]
    assert "unsupported file type" in reasons["manual.docx"]
    assert report.files_indexed == 5  # the corpus and bom.md
    assert set(store.source_hashes()) == CORPUS_SOURCES | {"docs/bad/bom.md"}


def test_ingest_reports_progress_for_every_file(docs: Path, store: ChromaStore):
    (docs / "empty.md").write_text("")
    events: list[IngestProgress] = []
    ingest_paths(["docs"], store, on_progress=events.append)
    assert [(e.done, e.total) for e in events] == [(i, 5) for i in range(1, 6)]
    outcomes = {e.source: e.outcome for e in events}
    assert outcomes["docs/empty.md"] == "skipped"
    assert sum(e.chunks for e in events) == store.count()
    events.clear()
    ingest_paths(["docs/install.md"], store, on_progress=events.append)
    assert [(e.outcome, e.chunks) for e in events] == [("unchanged", 0)]


def test_ingest_many_chunks_in_batches(docs: Path, store: ChromaStore):
    big = "\n\n".join(f"## Section {i}\n\nParagraph about topic {i}." for i in range(600))
    (docs / "big.md").write_text(f"# Big\n\n{big}\n")
    report = ingest_paths(["docs/big.md"], store)
    assert report.chunks_added == 600 == store.count()


def test_source_name_is_relative_under_cwd_else_absolute_with_forward_slashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "inside").mkdir()
    (tmp_path / "outside").mkdir()
    monkeypatch.chdir(tmp_path / "inside")
    assert source_name(Path("sub") / "a.md") == "sub/a.md"
    assert source_name(tmp_path / "inside" / "b.md") == "b.md"
    outside = source_name(Path("..") / "outside" / "c.md")
    assert outside == (tmp_path / "outside" / "c.md").as_posix()
    assert os.path.isabs(outside)


def test_find_files_skips_hidden_and_node_modules_folders(docs: Path):
    for folder in ("node_modules", ".git"):
        (docs / folder).mkdir()
        (docs / folder / "x.md").write_text("# x")
    files, missed = find_files([docs])
    assert sorted(p.name for p in files) == sorted(Path(s).name for s in CORPUS_SOURCES)
    assert missed == []


# -- every format, bad files of every kind, resuming ------------------------------------------

FORMAT_SOURCES = {
    "formats/admin-manual.pdf": ("Quillmate Admin Manual", {"Page 1", "Page 2"}),
    "formats/faq.txt": ("faq", {"faq"}),
    "formats/sharing.html": ("Sharing notebooks", {"Sharing notebooks > Invite by email"}),
    "formats/shortcuts.mdx": ("Keyboard shortcuts", {"Keyboard shortcuts > Custom shortcuts"}),
    "formats/sync-guide.rst": ("Quillmate sync guide", {"Quillmate sync guide > Offline mode"}),
}


def _stored(store: ChromaStore, source: str) -> list[tuple[str, str, str]]:
    """(doc_title, title, text) of each stored chunk of `source`, in order (white-box)."""
    collection = store._current()
    assert collection is not None
    got = collection.get(where={"source": source}, include=["metadatas", "documents"])
    rows = zip(got["metadatas"] or [], got["documents"] or [], strict=True)
    ordered = sorted(rows, key=lambda row: int(row[0]["position"]))  # type: ignore[arg-type]
    return [(str(m["doc_title"]), str(m["title"]), str(d)) for m, d in ordered]


def test_ingest_reads_every_format_with_titles_heading_trails_and_code(
    formats: Path, store: ChromaStore
):
    report = ingest_paths(["formats"], store)
    assert (report.files_seen, report.files_indexed, report.skipped) == (5, 5, ())
    assert set(store.source_hashes()) == set(FORMAT_SOURCES)
    for source, (doc_title, titles) in FORMAT_SOURCES.items():
        chunks = _stored(store, source)
        assert {d for d, _, _ in chunks} == {doc_title}, source
        assert titles <= {t for _, t, _ in chunks}, source
    texts = [text for _, _, text in _stored(store, "formats/sharing.html")]
    assert any("```python\nfrom quillmate import Client\n" in t for t in texts)
    assert not any("tracking" in t for t in texts)


def test_ingest_skips_unchanged_files_of_every_format_and_replaces_a_changed_one(
    formats: Path, store: ChromaStore
):
    ingest_paths(["formats"], store)
    again = ingest_paths(["formats"], store)
    assert (again.files_indexed, again.files_unchanged, again.chunks_added) == (0, 5, 0)
    page = formats / "sharing.html"
    page.write_text(page.read_text().replace("Revoke access", "Remove access"))
    changed = ingest_paths(["formats"], store)
    assert (changed.files_indexed, changed.files_unchanged) == (1, 4)
    titles = {t for _, t, _ in _stored(store, "formats/sharing.html")}
    assert "Sharing notebooks > Remove access" in titles
    assert "Sharing notebooks > Revoke access" not in titles


def test_ingest_reports_bad_files_of_every_format_and_indexes_the_rest(
    formats: Path, store: ChromaStore, monkeypatch: pytest.MonkeyPatch
):
    from chatui.retrieval import loaders

    bad = formats / "bad"
    bad.mkdir()
    (bad / "broken.pdf").write_bytes((formats / "admin-manual.pdf").read_bytes()[:200])
    (bad / "scripts-only.html").write_text("<script>track()</script><nav>menu</nav>")
    (bad / "windows.rst").write_bytes("Caf\xe9\n====".encode("cp1252"))
    (bad / "imports-only.mdx").write_text("import X from 'x'\n<X />\n")
    (bad / "crash.rst").write_text("Title\n=====\n")

    def crashing(data: bytes) -> loaders.Document:
        if b"Title" in data:
            raise RecursionError("maximum recursion depth exceeded")
        return loaders.load_rst(data)

    monkeypatch.setitem(loaders.LOADERS, ".rst", crashing)
    report = ingest_paths(["formats"], store)
    reasons = dict(report.skipped)
    assert "not a readable PDF" in reasons["formats/bad/broken.pdf"]
    assert "no text to index" in reasons["formats/bad/scripts-only.html"]
    assert "not valid UTF-8" in reasons["formats/bad/windows.rst"]
    assert "no text to index" in reasons["formats/bad/imports-only.mdx"]
    assert "could not be parsed (RecursionError" in reasons["formats/bad/crash.rst"]
    assert report.files_indexed == 5
    assert set(store.source_hashes()) == set(FORMAT_SOURCES)


def test_ingest_interrupted_between_batches_resumes_where_it_stopped(
    docs: Path, store: ChromaStore
):
    for name in ("a", "b", "c"):  # 200 chunks each: every file is its own write
        sections = "\n\n".join(f"## {name} {i}\n\nAbout {name} {i}." for i in range(200))
        (docs / f"{name}-big.md").write_text(f"# {name}\n\n{sections}\n")

    def stop_after_first_write(progress: IngestProgress) -> None:
        if progress.outcome == "indexed":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_paths(["docs"], store, on_progress=stop_after_first_write)
    assert set(store.source_hashes()) == {"docs/a-big.md"}
    resumed = ingest_paths(["docs"], store)
    assert (resumed.files_unchanged, resumed.files_indexed) == (1, 6)


def test_ingest_with_overlap_redoes_files_and_repeats_text(docs: Path, store: ChromaStore):
    ingest_paths(["docs"], store, max_chars=300)
    before = store.count()
    report = ingest_paths(["docs"], store, max_chars=300, overlap=120)
    assert report.files_indexed == 4
    assert store.count() >= before
