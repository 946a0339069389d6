"""Retrieval benchmark: search latency and ingest rate of the knowledge base at 1k, 10k, 50k chunks.

Run from the repository root (see bench/README.md):

    .venv/bin/python -m bench.retrieval --corpus ../shared/corpora/reflex-docs

For each size it builds a fresh persistent knowledge base in a temporary folder, storing chunks
the way `chatui ingest` does (`replace_files` in groups of whole files, about `BATCH_SIZE` chunks
per call: offline embedding, lexical index, Chroma), then times `ChromaStore.search` for every
query twice: with the query vectors computed beforehand (what the store itself costs: Chroma,
BM25, fusion, the thread hop) and end to end (with the offline embedder). It writes a Markdown
table to bench/results/retrieval.md.

Chunks come from the corpus when one is given: its files are chunked as ingest would, then
replicated with a paragraph of another chunk appended and a distinct source per replica, so every
chunk differs but the vocabulary stays real. Without a corpus they are generated from a Zipf-
distributed vocabulary. Queries are evals/reflex-docs.json's questions (with a corpus) plus heading
trails turned into questions.

What must stay true: the numbers exclude nothing the app pays per search except what a column
says it excludes; the first search after ingest (which loads the lexical index) is reported on its
own, never mixed into the percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import chromadb
import numpy as np

from bench.stats import fmt, percentile
from chatui.retrieval import (
    ChromaStore,
    FileChunks,
    WordLlamaEmbedder,
    chunk_markdown,
    chunk_text,
)
from chatui.retrieval.chunking import Chunk, chunk_id
from chatui.retrieval.lexical import FILENAME as LEXICAL_FILE
from chatui.retrieval.store import BATCH_SIZE, batch_groups

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "results" / "retrieval.md"
QUESTIONS = REPO / "evals" / "reflex-docs.json"


class PrecomputedEmbedder:
    """The offline embedder, answering from a table of vectors computed beforehand when it can.

    Same `name`, `dimensions` and `cosine_floor`, so the store treats it as the real one.
    """

    def __init__(self, inner: WordLlamaEmbedder) -> None:
        self.inner = inner
        self.name, self.dimensions, self.cosine_floor = inner.name, inner.dimensions, inner.cosine_floor
        self.table: dict[str, list[float]] = {}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        if all(t in self.table for t in texts):
            return np.asarray([self.table[t] for t in texts], np.float32)
        return self.inner.embed_array(texts)


@dataclass(frozen=True, slots=True)
class Row:
    chunks: int
    files: int
    ingest_chunks_per_s: float
    ingest_chunks_per_cpu_s: float
    first_search_ms: float
    store_p50: float
    store_p95: float
    store_cpu_p95: float
    e2e_p50: float
    e2e_p95: float
    lexical_mb: float


def corpus_chunks(corpus: Path | None, seed: int = 7) -> list[Chunk]:
    """The base chunks: the corpus's files chunked as ingest does, or generated ones."""
    if corpus is None:
        return _generated_chunks(3000, random.Random(seed))
    chunks: list[Chunk] = []
    for path in sorted(corpus.rglob("*")):
        if path.suffix.lower() not in {".md", ".mdx", ".markdown", ".txt"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        source = f"{corpus.name}/{path.relative_to(corpus).as_posix()}"
        chunker = chunk_text if path.suffix.lower() == ".txt" else chunk_markdown
        chunks.extend(chunker(text, source, 1200))
    return chunks


def synthesize(base: list[Chunk], size: int) -> list[FileChunks]:
    """`size` distinct chunks grouped by file: replicas of `base` with a foreign paragraph each."""
    files: dict[str, list[Chunk]] = {}
    for n in range(size):
        replica, original = divmod(n, len(base))
        chunk = base[original]
        source = chunk.source if replica == 0 else f"replica-{replica}/{chunk.source}"
        text = chunk.text
        if replica:
            donor = base[(original * 7 + replica * 13) % len(base)].text.split("\n\n")[0]
            text = f"{text}\n\n{donor[:300]}"
        position = len(files.setdefault(source, []))
        files[source].append(
            Chunk(chunk_id(source, position, text), source, chunk.title, text, position,
                  chunk.doc_title)
        )
    return [FileChunks(s, f"bench-{len(c)}", tuple(c)) for s, c in files.items()]


def queries(base: list[Chunk], count: int, rng: random.Random, real: bool) -> list[str]:
    """The eval questions (`real`: chunks from a corpus), then heading trails as questions."""
    found: list[str] = []
    if real and QUESTIONS.exists():
        found = [item["q"] for item in json.loads(QUESTIONS.read_text(encoding="utf-8"))]
    titles = sorted({c.title for c in base})
    rng.shuffle(titles)
    found += [f"How do I use {t.replace(' > ', ' ')}?" for t in titles]
    return (found * (count // max(len(found), 1) + 1))[:count]


async def measure(
    base: list[Chunk], size: int, count: int, folder: Path, seed: int, *, real: bool
) -> Row:
    files = synthesize(base, size)
    rng = random.Random(seed)
    embedder = PrecomputedEmbedder(WordLlamaEmbedder())
    store = ChromaStore.open(folder / "chroma", "bench", embedder)  # type: ignore[arg-type]
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        for group in batch_groups(files):
            store.replace_files(group)
        ingest_s = time.perf_counter() - started
        ingest_cpu_s = time.process_time() - cpu_started
        asked = queries(base, count, rng, real)
        started = time.perf_counter()
        await store.search(asked[0], k=5)
        first_ms = (time.perf_counter() - started) * 1000
        embedder.table = dict(zip(asked, embedder.inner.embed(asked), strict=True))
        store_ms, store_cpu_ms = await _timed(store, asked)
        embedder.table = {}
        e2e_ms, _ = await _timed(store, asked)
    finally:
        store.close()
    lexical = folder / "chroma" / LEXICAL_FILE
    lexical_mb = sum(p.stat().st_size for p in lexical.parent.glob(LEXICAL_FILE + "*")) / 2**20
    return Row(
        chunks=size,
        files=len(files),
        ingest_chunks_per_s=size / ingest_s,
        ingest_chunks_per_cpu_s=size / ingest_cpu_s,
        first_search_ms=first_ms,
        store_p50=percentile(store_ms, 50),
        store_p95=percentile(store_ms, 95),
        store_cpu_p95=percentile(store_cpu_ms, 95),
        e2e_p50=percentile(e2e_ms, 50),
        e2e_p95=percentile(e2e_ms, 95),
        lexical_mb=lexical_mb,
    )


def report(rows: list[Row], corpus: Path | None, count: int, load: tuple[str, str]) -> str:
    source = f"`{corpus.name}` ({corpus})" if corpus else "generated text (Zipf vocabulary)"
    lines = [
        "# Retrieval benchmark",
        "",
        f"{datetime.date.today().isoformat()} · {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}) · Python {platform.python_version()} · "
        f"chromadb {chromadb.__version__} · chunks from {source} · {count} queries per size, "
        "k = 5, hybrid search (vector + BM25, see chatui/retrieval/hybrid.py). Load average "
        f"(1 min) {load[0]} before, {load[1]} after.",
        "",
        "| chunks | files | ingest (chunks/s) | ingest (chunks per CPU-s) | first search (ms) | "
        "search p50 (ms) | search p95 (ms) | search CPU p95 (ms) | end-to-end p50 (ms) | "
        "end-to-end p95 (ms) | lexical index (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.chunks:,} | {r.files:,} | {fmt(r.ingest_chunks_per_s, 0)} | "
            f"{fmt(r.ingest_chunks_per_cpu_s, 0)} | "
            f"{fmt(r.first_search_ms)} | {fmt(r.store_p50)} | {fmt(r.store_p95)} | "
            f"{fmt(r.store_cpu_p95)} | "
            f"{fmt(r.e2e_p50)} | {fmt(r.e2e_p95)} | {fmt(r.lexical_mb)} |"
        )
    lines += [
        "",
        "- *ingest*: `ChromaStore.replace_files` in groups of whole files (about "
        f"{BATCH_SIZE} chunks per call, as `chatui ingest` does): offline embedding, lexical "
        "index, Chroma. Reading and chunking files is not included. *Per CPU-s*: chunks per "
        "second of this process's CPU time (all its threads), which other load on the machine "
        "does not change.",
        "- *first search*: the first query after ingest, which loads the lexical index into "
        "memory; not part of the percentiles.",
        "- *search*: `await ChromaStore.search(q, k=5)` with the query vector computed beforehand "
        "(excludes only the embedding call). *search CPU*: the CPU time the process spent on one "
        "such search (all threads): what a search costs when the machine is not busy with "
        "anything else. *end-to-end*: wall time with the offline embedder.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__)
    parser.add_argument("--corpus", type=Path, help="a docs folder (e.g. the Reflex docs)")
    parser.add_argument("--sizes", default="1000,10000,50000", help="chunk counts, comma-separated")
    parser.add_argument("--queries", type=int, default=300, help="queries timed per size")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown report")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.corpus is not None and not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus} is not a folder")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    base = corpus_chunks(args.corpus, args.seed)
    load_before = f"{os.getloadavg()[0]:.1f}"
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="chatui-bench-") as folder:
            row = asyncio.run(
                measure(base, size, args.queries, Path(folder), args.seed, real=bool(args.corpus))
            )
        rows.append(row)
        print(
            f"{size:>7,} chunks: ingest {row.ingest_chunks_per_s:,.0f} chunks/s, search p50 "
            f"{row.store_p50:.1f} ms / p95 {row.store_p95:.1f} ms (end to end p95 "
            f"{row.e2e_p95:.1f} ms)",
            file=sys.stderr,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    load = (load_before, f"{os.getloadavg()[0]:.1f}")
    args.out.write_text(report(rows, args.corpus, args.queries, load), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


async def _timed(store: ChromaStore, asked: list[str]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each search."""
    wall, cpu = [], []
    for question in asked:
        started, cpu_started = time.perf_counter(), time.process_time()
        await store.search(question, k=5)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return wall, cpu


def _generated_chunks(count: int, rng: random.Random) -> list[Chunk]:
    vocabulary = [
        "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(length))
        for length in rng.choices(range(2, 5), k=6000)
    ]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    chunks = []
    for n in range(count):
        source = f"generated/doc-{n // 10:04d}.md"
        title = " ".join(rng.choices(vocabulary[:800], k=3)).title()
        words = rng.choices(vocabulary, weights, k=rng.randint(80, 180))
        text = f"## {title}\n\n" + " ".join(words) + "."
        chunks.append(Chunk(chunk_id(source, n % 10, text), source, title, text, n % 10,
                            source.rsplit("/", 1)[1]))
    return chunks


if __name__ == "__main__":
    sys.exit(main())
