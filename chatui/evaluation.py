"""Retrieval evaluation: how often does search put a passage of the right document near the top?

Why this exists: retrieval quality is a feature, and a change to chunking, embedding or ranking
must be measured, not guessed. `chatui eval QUESTIONS.json` runs every question of a question set
through the same `search()` the chat uses (same `k`, same `min_score`) and reports recall@k and MRR.

A question set is JSON: `[{"q": "How do I ...?", "sources": ["reflex-docs/state/overview.md"]}]`.
Each source is a path relative to the folder the docs were ingested *from* (run `chatui ingest
reflex-docs` in `/work/shared/corpora` and the knowledge base names files "reflex-docs/...").

What must stay true:

- A stored source matches an expected one when it is equal to it or ends with "/" + it, compared
  path segment by segment, so the same question set works whether the docs were ingested by a
  relative path, from another directory, or by an absolute path ("x-docs/a.md" never matches
  "docs/a.md").
- A question is found when any of its sources appears among the `k` passages a search for `k`
  returns, exactly what the chat would get (the sources are alternatives: each one answers it).
  recall@k is the share of questions found; MRR is the mean of 1/rank of the first passage from
  an expected source in a second search for the top `MRR_DEPTH` (0 if none).
- Loading a question set either succeeds completely or raises `InputError` naming the entry and
  what is wrong with it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from chatui.errors import InputError
from chatui.retrieval.passage import Passage

MRR_DEPTH = 10


class Searchable(Protocol):
    """What the evaluation needs from a knowledge base (`ChromaStore` is the real one)."""

    async def search(self, query: str, k: int = 5, min_score: float = 0.0) -> list[Passage]: ...


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    question: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One question's outcome: the sources of the top k passages, and the rank (1-based, within
    the top `MRR_DEPTH`) of the first expected one, or None."""

    question: str
    sources: tuple[str, ...]
    area: str
    retrieved: tuple[str, ...]
    rank: int | None
    found: bool


@dataclass(frozen=True, slots=True)
class AreaScore:
    area: str
    questions: int
    recall: float
    mrr: float


@dataclass(frozen=True, slots=True)
class EvalReport:
    k: int
    min_score: float
    recall: float
    mrr: float
    areas: tuple[AreaScore, ...]
    results: tuple[QuestionResult, ...]
    search_ms_p50: float
    search_ms_p95: float

    @property
    def misses(self) -> tuple[QuestionResult, ...]:
        return tuple(r for r in self.results if not r.found)

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"questions": len(self.results)}, indent=2)


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read and validate a question set; see the module docstring for the format."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"Cannot read the question set {path}: {exc.strerror or exc}.") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc
    if not isinstance(data, list) or not data:
        raise InputError(
            f'{path} must hold a non-empty JSON list like [{{"q": "...", "sources": ["a.md"]}}].'
        )
    questions = []
    for n, item in enumerate(data, 1):
        where = f"{path}, entry {n}"
        question = item.get("q") if isinstance(item, dict) else None
        if not isinstance(question, str) or not question.strip():
            raise InputError(f'{where}: needs "q", a non-empty question string.')
        sources = item.get("sources")
        if (
            not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) and s.strip() for s in sources)
        ):
            raise InputError(f'{where}: needs "sources", a non-empty list of file paths.')
        questions.append(EvalQuestion(question.strip(), tuple(_normalise(s) for s in sources)))
    return questions


def source_matches(stored: str, expected: str) -> bool:
    """True when `stored` names the file `expected` names; see the module docstring."""
    have, want = PurePosixPath(_normalise(stored)).parts, PurePosixPath(_normalise(expected)).parts
    return len(have) >= len(want) and have[len(have) - len(want) :] == want


def unknown_sources(questions: Iterable[EvalQuestion], stored: Iterable[str]) -> list[str]:
    """Expected sources that match no stored source (a sign the docs were ingested elsewhere)."""
    stored = list(stored)
    wanted = sorted({s for q in questions for s in q.sources})
    return [s for s in wanted if not any(source_matches(have, s) for have in stored)]


async def evaluate(
    questions: Sequence[EvalQuestion], store: Searchable, *, k: int = 5, min_score: float = 0.0
) -> EvalReport:
    """Search every question (one at a time, so latencies are honest) and score the results."""
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    prefix = _common_folder([s for q in questions for s in q.sources])
    depth = max(k, MRR_DEPTH)
    results, latencies = [], []
    for item in questions:
        started = time.perf_counter()
        top_k = await store.search(item.question, k=k, min_score=min_score)  # what the chat gets
        latencies.append((time.perf_counter() - started) * 1000)
        deeper = await store.search(item.question, k=depth, min_score=min_score)
        rank = next((n for n, p in enumerate(deeper, 1) if _expected(p.source, item)), None)
        area = _area(item.sources[0], prefix)
        retrieved = tuple(p.source for p in top_k)
        found = any(_expected(s, item) for s in retrieved)
        results.append(QuestionResult(item.question, item.sources, area, retrieved, rank, found))
    areas = [
        _score(area, [r for r in results if r.area == area])
        for area in sorted({r.area for r in results})
    ]
    overall = _score("all", results)
    latencies.sort()
    return EvalReport(
        k=k,
        min_score=min_score,
        recall=overall.recall,
        mrr=overall.mrr,
        areas=tuple(areas),
        results=tuple(results),
        search_ms_p50=_percentile(latencies, 0.50),
        search_ms_p95=_percentile(latencies, 0.95),
    )


def format_report(report: EvalReport, title: str) -> str:
    """A plain-text table by area, the totals, then every miss with what came back instead."""
    lines = [
        f"{title}: {len(report.results)} questions, top {report.k}, "
        f"min score {report.min_score:g}",
        "",
        f"{'area':<22} {'questions':>9} {f'recall@{report.k}':>9} {f'MRR@{MRR_DEPTH}':>7}",
    ]
    total = AreaScore("all", len(report.results), report.recall, report.mrr)
    for row in [*report.areas, total]:
        if row is total:
            lines.append("-" * 50)
        lines.append(f"{row.area:<22} {row.questions:>9} {row.recall:>9.3f} {row.mrr:>7.3f}")
    lines.append(
        f"\nsearch latency: p50 {report.search_ms_p50:.1f} ms, p95 {report.search_ms_p95:.1f} ms"
    )
    if report.misses:
        lines.append(f"\nMisses (no expected source in the top {report.k}):")
        for miss in report.misses:
            got = ", ".join(dict.fromkeys(miss.retrieved)) or "nothing"
            rank = f" (first at rank {miss.rank})" if miss.rank else ""
            lines.append(f"  - {miss.question}{rank}\n      wanted {', '.join(miss.sources)}")
            lines.append(f"      got    {got}")
    return "\n".join(lines)


def _expected(source: str, item: EvalQuestion) -> bool:
    return any(source_matches(source, wanted) for wanted in item.sources)


def _score(area: str, results: Sequence[QuestionResult]) -> AreaScore:
    n = len(results)
    recall = sum(r.found for r in results) / n
    mrr = sum(1 / r.rank for r in results if r.rank) / n
    return AreaScore(area, n, round(recall, 4), round(mrr, 4))


def _normalise(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _common_folder(sources: Sequence[str]) -> tuple[str, ...]:
    """The folder every expected source is under ("reflex-docs"), so areas are what follows it."""
    folders = [PurePosixPath(s).parts[:-1] for s in sources]
    common: list[str] = []
    for parts in zip(*folders):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return tuple(common)


def _area(source: str, prefix: tuple[str, ...]) -> str:
    parts = PurePosixPath(source).parts[len(prefix) :]
    return parts[0] if len(parts) > 1 else "(top level)"


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[index], 2)
