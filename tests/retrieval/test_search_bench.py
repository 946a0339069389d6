"""Smoke test of bench/retrieval.py: the harness runs end to end at a tiny size and writes its
table. It checks the harness, not the numbers (timings belong to the benchmark, not the suite)."""

from __future__ import annotations

from pathlib import Path

from bench import retrieval
from tests.conftest import FIXTURE_DOCS


def test_search_bench_writes_a_table_from_generated_chunks(tmp_path: Path):
    out = tmp_path / "retrieval.md"
    assert retrieval.main(["--sizes", "200", "--queries", "15", "--out", str(out)]) == 0
    table = out.read_text()
    assert "# Retrieval benchmark" in table and "generated text" in table
    row = next(line for line in table.splitlines() if line.startswith("| 200 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 11 and all(c and c != "n/a" for c in cells)


def test_search_bench_synthesizes_distinct_chunks_from_a_corpus():
    base = retrieval.corpus_chunks(FIXTURE_DOCS)
    assert {c.source.split("/")[0] for c in base} == {"docs"}
    files = retrieval.synthesize(base, 3 * len(base) + 1)
    chunks = [c for f in files for c in f.chunks]
    assert len(chunks) == 3 * len(base) + 1
    assert len({c.id for c in chunks}) == len(chunks)
    assert len({c.text for c in chunks}) == len(chunks)
    assert all(c.source == f.source for f in files for c in f.chunks)
