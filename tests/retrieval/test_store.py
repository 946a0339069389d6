"""ChromaStore against a real Chroma in tmp_path: search quality, scores, errors, persistence."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from chatui.errors import InputError, RetrievalError
from chatui.retrieval import (
    ChromaStore,
    FileChunks,
    HashingEmbedder,
    WordLlamaEmbedder,
    chunk_markdown,
    ingest_paths,
)

# Paraphrased questions a user might type, and the section that answers each.
QUESTIONS = [
    ("where is the config file stored on my computer?", "configuration.md", "The config file"),
    ("my sync keeps timing out", "troubleshooting.md", "Sync times out"),
    ("how can I change the port the server uses", "configuration.md", "Server options"),
    ("pip says permission denied when I install it", "troubleshooting.md", "Permission denied"),
    ("how do I remove quillmate from my laptop", "install.md", "Uninstalling"),
    ("we are behind a company proxy", "configuration.md", "Proxy settings"),
    ("how to set it up on a mac", "install.md", "On a Mac with Homebrew"),
    ("I deleted a note by accident, can I get it back?", "troubleshooting.md", "Notes are missing"),
    ("login says my token is invalid", "troubleshooting.md", "Logging in fails"),
    ("how often does it sync?", "configuration.md", "Sync interval"),
]


@pytest.fixture
def indexed(docs: Path, store: ChromaStore) -> ChromaStore:
    report = ingest_paths([docs], store)
    assert report.files_indexed == 4 and not report.skipped
    return store


@pytest.mark.parametrize(("question", "source", "section"), QUESTIONS)
async def test_store_search_finds_the_answering_section_for_paraphrased_questions(
    indexed: ChromaStore, question: str, source: str, section: str
):
    # Among the first three, which the model always reads (the default k is 5). The offline
    # embedder puts two of these second, after a section that shares the question's main word
    # ("sync" -> "Sync interval"); on the Reflex docs' 62 questions it ranks better than hashing.
    found = await indexed.search(question, k=3)
    assert any(
        p.source == f"docs/{source}" and (p.title.endswith(section) or section in p.title)
        for p in found
    ), [(p.source, p.title) for p in found]


async def test_store_search_returns_k_passages_best_first_with_scores_in_range(
    indexed: ChromaStore,
):
    passages = await indexed.search("sync timeout firewall", k=5)
    assert len(passages) == 5
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len({p.chunk_id for p in passages}) == 5


async def test_store_search_drops_passages_below_min_score(indexed: ChromaStore):
    everything = await indexed.search("sync timeout firewall", k=10)
    threshold = (everything[0].score + everything[-1].score) / 2
    kept = await indexed.search("sync timeout firewall", k=10, min_score=threshold)
    assert 0 < len(kept) < len(everything)
    assert all(p.score >= threshold for p in kept)
    assert kept == [p for p in everything if p.score >= threshold]


async def test_store_search_passage_carries_source_title_and_original_text(indexed: ChromaStore):
    best = (await indexed.search("brew tap quillmate", k=1))[0]
    assert best.title == "Installing Quillmate > On a Mac with Homebrew"
    assert best.text.startswith("## On a Mac with Homebrew\n\nMac users")
    assert "```bash\nbrew tap quillmate/tap" in best.text


async def test_store_search_of_a_missing_or_empty_collection_returns_nothing(store_dir: Path):
    with ChromaStore.open(store_dir, "never-made") as store:
        assert store.count() == 0
        assert await store.search("anything at all") == []
        assert store.source_hashes() == {}
        store.delete_source("docs/none.md")  # nothing to delete is fine
    with ChromaStore.open(None, "in-memory-empty") as memory:
        assert await memory.search("anything") == []


async def test_store_search_of_a_blank_query_returns_nothing(indexed: ChromaStore):
    assert await indexed.search("   ") == []


async def test_store_search_rejects_bad_arguments(indexed: ChromaStore):
    with pytest.raises(InputError):
        await indexed.search("sync", k=0)
    with pytest.raises(InputError):
        await indexed.search("sync", min_score=1.5)


async def test_store_search_runs_concurrently_off_the_event_loop(indexed: ChromaStore):
    questions = [q for q, _, _ in QUESTIONS]
    one_by_one = [await indexed.search(q, k=3) for q in questions]
    results = await asyncio.gather(*(indexed.search(q, k=3) for q in questions))
    assert results == one_by_one and all(results)


def test_store_open_with_another_embedder_says_how_to_reingest(
    indexed: ChromaStore, store_dir: Path
):
    indexed.close()
    with pytest.raises(RetrievalError) as caught:
        ChromaStore.open(store_dir, "docs", HashingEmbedder(256))
    message = caught.value.message
    assert WordLlamaEmbedder.name in message and "hashing-v1-256" in message
    assert "chatui ingest --reset" in message


async def test_store_open_with_reset_rebuilds_for_a_new_embedder(
    indexed: ChromaStore, store_dir: Path
):
    indexed.close()
    with ChromaStore.open(store_dir, "docs", HashingEmbedder(256), reset=True) as store:
        assert store.count() == 0
        report = ingest_paths(["docs"], store)
        assert report.files_indexed == 4
        assert (await store.search("proxy", k=1))[0].title.endswith("Proxy settings")


async def test_store_contents_persist_across_reopen(indexed: ChromaStore, store_dir: Path):
    count, hashes = indexed.count(), indexed.source_hashes()
    indexed.close()
    with ChromaStore.open(store_dir, "docs") as reopened:
        assert reopened.count() == count > 0
        assert reopened.source_hashes() == hashes
        assert (await reopened.search("company proxy", k=1))[0].title.endswith("Proxy settings")


def test_store_contents_are_readable_from_a_fresh_process(indexed: ChromaStore, store_dir: Path):
    indexed.close()
    code = (
        "import asyncio, sys; from chatui.retrieval import ChromaStore;"
        "s = ChromaStore.open(__import__('pathlib').Path(sys.argv[1]));"
        "print(s.count(), asyncio.run(s.search('company proxy', k=1))[0].title)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(store_dir)], capture_output=True, text=True, check=True
    ).stdout
    assert out.split(" ", 1)[1].strip() == "Configuration > Proxy settings"
    assert int(out.split(" ", 1)[0]) > 0


# Chroma stores "no embedding function" as {"type": "legacy"} and warns when reading it back.
@pytest.mark.filterwarnings("ignore:legacy embedding function config:DeprecationWarning")
def test_store_never_records_chroma_default_embedder(indexed: ChromaStore):
    collection = indexed._current()  # white-box: what Chroma itself has persisted
    assert collection is not None
    assert collection.configuration.get("embedding_function") is None
    assert collection.configuration["hnsw"]["space"] == "cosine"


def test_store_add_chunks_replaces_the_source_and_rejects_mixed_sources(store: ChromaStore):
    old = chunk_markdown("# A\n\nold words\n\n# B\n\nmore old words", "a.md")
    new = chunk_markdown("# A\n\nnew words", "a.md")
    assert store.add_chunks(old, "h1") == 2
    assert store.add_chunks(new, "h2") == 1
    assert store.count() == 1
    assert store.source_hashes() == {"a.md": "h2"}
    with pytest.raises(ValueError, match="one source"):
        store.add_chunks([*new, *chunk_markdown("x", "b.md")], "h3")


def test_store_replace_files_writes_many_sources_at_once(store: ChromaStore):
    store.add_chunks(chunk_markdown("# A\n\nold alpha", "a.md"), "old")
    files = [
        FileChunks(f"{n}.md", f"h-{n}", tuple(chunk_markdown(f"# {n}\n\nnew", f"{n}.md")))
        for n in ("a", "b", "c")
    ]
    files.append(FileChunks("gone.md", "h-gone", ()))  # a file with no chunks left
    assert store.replace_files(files) == 3
    assert store.source_hashes() == {"a.md": "h-a", "b.md": "h-b", "c.md": "h-c"}
    assert store.count() == 3
    with pytest.raises(ValueError, match="another source"):
        store.replace_files([FileChunks("a.md", "h", tuple(chunk_markdown("x", "b.md")))])
    with pytest.raises(ValueError, match="same source twice"):
        store.replace_files([files[0], files[0]])


def test_store_source_hashes_omits_a_partly_stored_source(store: ChromaStore):
    text = "\n\n".join(f"# Part {i}\n\nbody {i}" for i in range(3))
    chunks = chunk_markdown(text, "partial.md")
    store.add_chunks(chunks, "h1")
    store.add_chunks(chunk_markdown("# Other\n\nfine", "other.md"), "h2")
    # Simulate an ingest that died half-way through the file: one of its chunks never arrived.
    store._current().delete(ids=[chunks[1].id])  # type: ignore[union-attr]
    assert store.source_hashes() == {"other.md": "h2"}


def test_store_delete_source_and_reset(store: ChromaStore):
    store.add_chunks(chunk_markdown("# A\n\nalpha", "a.md"), "ha")
    store.add_chunks(chunk_markdown("# B\n\nbeta", "b.md"), "hb")
    store.delete_source("a.md")
    assert store.source_hashes() == {"b.md": "hb"}
    store.reset()
    assert store.count() == 0
    store.reset()  # resetting nothing is fine
    store.add_chunks(chunk_markdown("# C\n\ngamma", "c.md"), "hc")
    assert store.count() == 1


async def test_store_sees_a_collection_another_store_created_after_it_opened(store_dir: Path):
    reader, writer = ChromaStore.open(store_dir, "late"), ChromaStore.open(store_dir, "late")
    with reader, writer:
        assert await reader.search("gamma") == []
        writer.add_chunks(chunk_markdown("# C\n\ngamma ray", "c.md"), "hc")
        assert [p.source for p in await reader.search("gamma")] == ["c.md"]
        writer.reset()
        writer.add_chunks(chunk_markdown("# D\n\ngamma delta", "d.md"), "hd")
        assert [p.source for p in await reader.search("gamma")] == ["d.md"]


def test_store_open_reports_an_unusable_path(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(RetrievalError, match="CHATUI_DATA_DIR"):
        ChromaStore.open(blocker / "chroma")


def test_store_reports_an_invalid_collection_name_when_creating_it(store_dir: Path):
    # Chroma only validates names on create; reading a never-created collection finds nothing.
    with ChromaStore.open(store_dir, "-bad name-") as store:
        with pytest.raises(RetrievalError, match="CHATUI_COLLECTION"):
            store.add_chunks(chunk_markdown("# A\n\nalpha", "a.md"), "ha")


def test_store_exposes_its_collection_name(store: ChromaStore):
    assert store.collection_name == "docs"
