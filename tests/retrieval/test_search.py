"""Hybrid search on the Quillmate fixture: paraphrases found, unrelated questions scored low, and
the lexical index persisted, kept in step with writes, deletes and resets, and rebuilt when stale.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chromadb.api.models.Collection import Collection

from chatui.retrieval import ChromaStore, chunk_markdown, ingest_paths
from chatui.retrieval import lexical as lexical_module
from chatui.retrieval.hybrid import (
    COSINE_FLOOR,
    SAME_FILE_DECAY,
    W_FILE_LEXICAL,
    W_FILE_VECTOR,
    W_LEXICAL,
    W_VECTOR,
    rank,
    score,
    side_score,
)
from chatui.retrieval.lexical import Evidence
from chatui.retrieval.sidecar import FILENAME

MIN_SCORE = 0.1  # CHATUI_MIN_SCORE's default

# Questions worded unlike the docs, and the section that answers each (none of them is in
# test_store.QUESTIONS).
PARAPHRASES = [
    ("which setting do I use to go through my company's HTTP proxy?", "Proxy settings"),
    ("how do I get back notes that another laptop removed?", "Notes are missing after sync"),
    ("my access token expired and I cannot sign in", "Logging in fails"),
    ("how much disk space does it need?", "Requirements"),
    ("is there end-to-end encryption for shared notebooks?", "release-notes"),
    ("where does the settings file live on Windows?", "The config file"),
    ("how do I upgrade it with brew?", "On a Mac with Homebrew"),
    ("which port does the server listen on by default?", "Server options"),
]
UNRELATED = [
    "What is the capital of Peru?",
    "What is the airspeed of an unladen swallow?",
    "Who won the football world cup in 1998?",
    "best pasta recipe with tomatoes",
]


@pytest.fixture
def indexed(docs: Path, store: ChromaStore) -> ChromaStore:
    report = ingest_paths([docs], store)
    assert report.files_indexed == 4 and not report.skipped
    return store


def lexical_sources(store: ChromaStore, query: str) -> set[str]:
    """The sources of the chunks whose own words match `query` in the lexical index (white-box)."""
    vector = store.embedder.embed([query])[0]
    found = store._lexical.search(query, vector, 50, side_score).values()
    return {e.source for e in found if e.lexical > 0}


@pytest.mark.parametrize(("question", "section"), PARAPHRASES)
async def test_search_puts_the_answering_section_first_for_a_paraphrase(
    indexed: ChromaStore, question: str, section: str
):
    best = (await indexed.search(question, k=3, min_score=MIN_SCORE))[0]
    assert best.title.endswith(section)
    assert best.score >= 1.5 * MIN_SCORE  # clearly above the cut-off (off-topic: under 0.08)


async def test_search_finds_a_section_whose_words_are_spread_out(indexed: ChromaStore):
    passages = await indexed.search("I want notes to sync only when I ask", k=3)
    assert "Configuration > Sync interval" in [p.title for p in passages]


@pytest.mark.parametrize("question", UNRELATED)
async def test_search_scores_an_unrelated_question_below_min_score(
    indexed: ChromaStore, question: str
):
    everything = await indexed.search(question, k=10)
    assert everything and max(p.score for p in everything) < MIN_SCORE
    assert await indexed.search(question, k=10, min_score=MIN_SCORE) == []


async def test_search_lexical_side_weighs_rare_words(indexed: ChromaStore):
    # "pipx" appears once in the docs; BM25 must rank its chunk first even in a wordy question.
    passages = await indexed.search("is there a way to keep the tool apart using pipx?", k=1)
    assert passages[0].title.endswith("With pip")


async def test_search_lexical_index_is_persisted_beside_chroma(
    indexed: ChromaStore, store_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    assert (store_dir / FILENAME).is_file()
    indexed.close()
    loads: list[str] = []

    def no_rebuild(self: ChromaStore) -> None:
        loads.append("rebuilt from Chroma")

    monkeypatch.setattr(ChromaStore, "_everything", no_rebuild)
    with ChromaStore.open(store_dir, "docs") as reopened:
        assert lexical_sources(reopened, "homebrew") == {"docs/install.md"}
        assert (await reopened.search("pipx", k=1))[0].title.endswith("With pip")
    assert loads == []  # read from disk, not rebuilt


async def test_search_lexical_index_follows_deletes(indexed: ChromaStore):
    assert "docs/install.md" in lexical_sources(indexed, "homebrew pipx")
    indexed.delete_source("docs/install.md")
    assert "docs/install.md" not in lexical_sources(indexed, "homebrew pipx")
    passages = await indexed.search("homebrew pipx", k=10)
    assert passages and all(p.source != "docs/install.md" for p in passages)


async def test_search_lexical_index_follows_a_replaced_file(indexed: ChromaStore):
    assert lexical_sources(indexed, "homebrew") == {"docs/install.md"}
    text = "# Installing\n\n## Flatpak\n\nRun flatpak install quillmate."
    new = chunk_markdown(text, "docs/install.md")
    indexed.add_chunks(new, "new-hash")
    assert lexical_sources(indexed, "homebrew") == set()
    best = (await indexed.search("can I get it as a flatpak?", k=1))[0]
    assert best.source == "docs/install.md" and best.title.endswith("Flatpak")


async def test_search_lexical_index_is_emptied_by_reset(indexed: ChromaStore):
    indexed.reset()
    assert lexical_sources(indexed, "homebrew pipx proxy") == set()
    indexed.add_chunks(chunk_markdown("# Gamma\n\ngamma rays", "g.md"), "hg")
    assert lexical_sources(indexed, "homebrew gamma") == {"g.md"}


async def test_search_rebuilds_a_missing_lexical_index_from_chroma(
    indexed: ChromaStore, store_dir: Path
):
    # A knowledge base made before the lexical index existed has only Chroma's files.
    indexed.close()
    for path in store_dir.glob(FILENAME + "*"):
        path.unlink()
    with ChromaStore.open(store_dir, "docs") as reopened:
        assert (await reopened.search("pipx", k=1))[0].title.endswith("With pip")
        assert "docs/install.md" in lexical_sources(reopened, "pipx")
    assert (store_dir / FILENAME).is_file()


async def test_search_rebuilds_a_lexical_index_made_by_another_analyzer(
    indexed: ChromaStore, store_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    indexed.close()
    monkeypatch.setattr(lexical_module, "ANALYZER", "bm25-v999-test")
    with ChromaStore.open(store_dir, "docs") as reopened:
        assert reopened._lexical.needs_rebuild()
        assert (await reopened.search("pipx", k=1))[0].title.endswith("With pip")
        assert not reopened._lexical.needs_rebuild()


def chroma_count(store: ChromaStore) -> int:
    collection = store._current()
    return collection.count() if collection is not None else 0


def test_count_is_read_from_the_lexical_index_without_asking_chroma(
    indexed: ChromaStore, store_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    expected = chroma_count(indexed)
    with ChromaStore.open(store_dir, "docs") as writer:
        writer.add_chunks(chunk_markdown("# Z\n\nzeppelin hangar\n\n# Y\n\nyurt", "z.md"), "hz")

        def no_chroma(*args: object) -> int:
            raise AssertionError("count() asked Chroma")

        with monkeypatch.context() as patched:
            patched.setattr(Collection, "count", no_chroma)
            assert indexed.count() == expected + 2  # the other store's write is seen
            writer.delete_source("z.md")
            assert indexed.count() == expected
    assert indexed.count() == chroma_count(indexed)


def test_count_asks_chroma_while_the_lexical_index_awaits_its_rebuild(
    indexed: ChromaStore, store_dir: Path
):
    expected = chroma_count(indexed)
    indexed.close()
    for path in store_dir.glob(FILENAME + "*"):
        path.unlink()
    with ChromaStore.open(store_dir, "docs") as reopened:
        assert reopened._lexical.needs_rebuild()
        assert reopened.count() == expected > 0
    with ChromaStore.open(store_dir, "never-ingested") as empty:
        assert empty.count() == 0


async def test_search_sees_lexical_writes_of_another_store(store_dir: Path):
    reader, writer = ChromaStore.open(store_dir, "late"), ChromaStore.open(store_dir, "late")
    with reader, writer:
        assert lexical_sources(reader, "zeppelin") == set()
        writer.add_chunks(chunk_markdown("# Z\n\nzeppelin hangar", "z.md"), "hz")
        assert lexical_sources(reader, "zeppelin") == {"z.md"}
        writer.delete_source("z.md")
        assert lexical_sources(reader, "zeppelin") == set()


async def test_search_in_memory_stores_of_one_name_share_the_lexical_index():
    first, second = ChromaStore.open(None, "shared-memory"), ChromaStore.open(None, "shared-memory")
    with first, second:
        first.add_chunks(chunk_markdown("# Q\n\nquokka habitat", "q.md"), "hq")
        assert (await second.search("quokka", k=1))[0].source == "q.md"
    with ChromaStore.open(None, "shared-memory") as fresh:  # all closed: memory is released
        assert await fresh.search("quokka") == []


def test_search_weights_sum_to_one_so_scores_stay_in_range():
    assert W_VECTOR + W_LEXICAL + W_FILE_LEXICAL + W_FILE_VECTOR == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("scored", "k", "min_score", "expected"),
    [
        # best first, ties broken by chunk id
        ([(0.2, "b", "x"), (0.5, "a", "y"), (0.2, "a2", "z")], 3, 0.0,
         [(0.5, "a"), (0.2, "a2"), (0.2, "b")]),
        # later chunks of one file decay (x0.8 each); a lesser chunk of another file overtakes
        ([(0.9, "a", "f"), (0.8, "b", "f"), (0.7, "c", "f"), (0.6, "d", "g")], 3, 0.0,
         [(0.9, "a"), (0.64, "b"), (0.6, "d")]),
        # min_score applies after the decay; scores are clipped to [0, 1]
        ([(1.7, "a", "f"), (0.5, "b", "f"), (0.6, "c", "g")], 5, 0.45,
         [(1.0, "a"), (0.6, "c")]),
        ([], 5, 0.0, []),
    ],
)
def test_search_rank_orders_decays_and_filters(scored, k, min_score, expected):
    assert rank(scored, k, min_score) == expected


def test_search_rank_min_score_only_drops_passages():
    scored = [(0.1 * n, f"id{n}", f"file{n % 3}") for n in range(10)]
    everything = rank(scored, 10, 0.0)
    assert rank(scored, 10, 0.3) == [item for item in everything if item[0] >= 0.3]
    assert everything[0] == (0.9, "id9") and len(everything) == 10
    assert SAME_FILE_DECAY < 1


def test_search_side_score_is_the_blend_without_the_chunk_cosine():
    evidence = Evidence("a.md", lexical=0.5, file_lexical=0.25, file_vector=0.75)
    expected = score(0.0, evidence)
    assert side_score(0.5, 0.25, 0.75) == pytest.approx(expected)
    above_floor = (0.4 - COSINE_FLOOR) / (1 - COSINE_FLOOR)
    assert score(0.4, evidence) == pytest.approx(expected + W_VECTOR * above_floor)
    assert score(COSINE_FLOOR, Evidence("a.md", 0.0, 0.0, COSINE_FLOOR)) == 0.0  # noise: nothing
    assert score(1.0, Evidence("a.md", 1.0, 1.0, 1.0)) == pytest.approx(1.0)
