"""Retrieval evaluation: source matching, question-set validation, the metrics, and `chatui eval`
as a user runs it (a real process, a real knowledge base built from the Quillmate fixture)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatui.errors import InputError
from chatui.evaluation import (
    EvalQuestion,
    evaluate,
    format_report,
    load_questions,
    source_matches,
    unknown_sources,
)
from chatui.retrieval.passage import Passage
from tests.conftest import FIXTURE_DOCS


def chatui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the `chatui` command in `cwd` with a clean chatui environment (data in ./.chatui)."""
    ours = ("CHATUI_", "OPENAI_", "ANTHROPIC_")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return subprocess.run(
        [sys.executable, "-m", "chatui.cli", *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE_DOCS, tmp_path / "docs")
    return tmp_path


@pytest.mark.parametrize(
    ("stored", "expected", "matches"),
    [
        ("reflex-docs/state/overview.md", "reflex-docs/state/overview.md", True),
        ("/srv/corpora/reflex-docs/state/overview.md", "reflex-docs/state/overview.md", True),
        ("corpora/reflex-docs/state/overview.md", "state/overview.md", True),
        ("reflex-docs/state/overview.md", "./reflex-docs/state/overview.md", True),
        ("reflex-docs\\state\\overview.md", "reflex-docs/state/overview.md", True),
        ("other-reflex-docs/state/overview.md", "reflex-docs/state/overview.md", False),
        ("reflex-docs/state/overview.md", "docs/state/overview.md", False),
        ("reflex-docs/state/overview.md", "state/overview.mdx", False),
        ("state/overview.md", "reflex-docs/state/overview.md", False),
    ],
)
def test_evaluation_source_matches_whole_trailing_path_segments(
    stored: str, expected: str, matches: bool
):
    assert source_matches(stored, expected) is matches


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ("{}", "non-empty JSON list"),
        ("[]", "non-empty JSON list"),
        ('[{"q": "a?", "sources": ["a.md"]}, {"sources": ["a.md"]}]', "entry 2: needs \"q\""),
        ('[{"q": "  ", "sources": ["a.md"]}]', "entry 1: needs \"q\""),
        ('[{"q": "a?", "sources": []}]', "entry 1: needs \"sources\""),
        ('[{"q": "a?", "sources": "a.md"}]', "entry 1: needs \"sources\""),
        ('[{"q": "a?", "sources": [3]}]', "entry 1: needs \"sources\""),
    ],
)
def test_evaluation_load_questions_names_what_is_wrong(tmp_path: Path, content: str, message: str):
    path = tmp_path / "questions.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_questions(path)


def test_evaluation_load_questions_reads_and_normalises(tmp_path: Path):
    path = tmp_path / "questions.json"
    path.write_text(json.dumps([{"q": " How? ", "sources": ["./docs\\a.md", "docs/b.md"]}]))
    assert load_questions(path) == [EvalQuestion("How?", ("docs/a.md", "docs/b.md"))]
    with pytest.raises(InputError, match="Cannot read"):
        load_questions(tmp_path / "missing.json")


class ScriptedStore:
    """A knowledge base that returns, for each question, passages from the listed sources."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int, float]] = []

    async def search(self, query: str, k: int = 5, min_score: float = 0.0) -> list[Passage]:
        self.calls.append((query, k, min_score))
        sources = self.answers[query][:k]
        return [Passage(f"c{n}", s, "T", "text", 0.5) for n, s in enumerate(sources)]


async def test_evaluation_computes_recall_at_k_and_mrr_by_area():
    questions = [
        EvalQuestion("first?", ("kb/state/a.md",)),  # rank 1
        EvalQuestion("third?", ("kb/state/b.md", "kb/events/c.md")),  # rank 3 (an alternative)
        EvalQuestion("seventh?", ("kb/events/d.md",)),  # rank 7: not found in the top 5
        EvalQuestion("never?", ("kb/events/e.md",)),  # not in the top 10
    ]
    filler = [f"kb/other/{n}.md" for n in range(10)]
    store = ScriptedStore(
        {
            "first?": ["kb/state/a.md", *filler],
            "third?": [filler[0], filler[1], "/abs/kb/events/c.md", *filler],
            "seventh?": [*filler[:6], "kb/events/d.md", *filler],
            "never?": filler,
        }
    )
    report = await evaluate(questions, store, k=5, min_score=0.05)

    assert [r.rank for r in report.results] == [1, 3, 7, None]
    assert [r.found for r in report.results] == [True, True, False, False]
    assert report.recall == 0.5
    assert report.mrr == pytest.approx(round((1 + 1 / 3 + 1 / 7) / 4, 4))
    assert [(a.area, a.questions, a.recall) for a in report.areas] == [
        ("events", 2, 0.0),
        ("state", 2, 1.0),
    ]
    # recall from the k the chat would ask for, MRR from a search 10 deep
    assert {call[1:] for call in store.calls} == {(5, 0.05), (10, 0.05)}
    assert report.results[2].retrieved == tuple(filler[:5])
    text = format_report(report, "set")
    assert "recall@5" in text and "0.500" in text
    assert "seventh? (first at rank 7)" in text and "never?" in text and "first?" not in text
    assert json.loads(report.to_json())["recall"] == 0.5


def test_evaluation_unknown_sources_lists_paths_the_knowledge_base_lacks():
    questions = [EvalQuestion("q", ("docs/a.md", "docs/b.md")), EvalQuestion("r", ("docs/c.md",))]
    assert unknown_sources(questions, ["/home/x/docs/a.md", "docs/c.md"]) == ["docs/b.md"]


def write_questions(folder: Path) -> Path:
    path = folder / "questions.json"
    items = [
        {"q": "where is the config file on my computer?", "sources": ["docs/configuration.md"]},
        {"q": "how do I remove quillmate from my laptop", "sources": ["docs/install.md"]},
        {"q": "login says my token is invalid", "sources": ["docs/troubleshooting.md"]},
        {"q": "which version added encryption?", "sources": ["docs/release-notes.txt"]},
    ]
    path.write_text(json.dumps(items))
    return path


def test_evaluation_cli_reports_recall_and_mrr_over_the_fixture(workdir: Path):
    assert chatui("ingest", "docs", cwd=workdir).returncode == 0
    questions = write_questions(workdir)

    table = chatui("eval", str(questions), cwd=workdir)
    assert table.returncode == 0, table.stderr
    assert "4 questions, top 5" in table.stdout
    assert "recall@5" in table.stdout and "MRR@10" in table.stdout
    assert "all                            4     1.000   1.000" in table.stdout
    assert "Misses" not in table.stdout

    as_json = chatui("eval", "--json", "--k", "1", str(questions), cwd=workdir)
    report = json.loads(as_json.stdout)
    assert report["questions"] == 4 and report["k"] == 1 and report["recall"] == 1.0
    assert report["min_score"] == 0.1

    strict = chatui("eval", "--fail-under", "1.01", str(questions), cwd=workdir)
    assert strict.returncode == 1


def test_evaluation_cli_says_how_to_fix_an_empty_kb_or_foreign_paths(workdir: Path):
    questions = write_questions(workdir)
    empty = chatui("eval", str(questions), cwd=workdir)
    assert empty.returncode == 1 and "chatui ingest" in empty.stderr

    chatui("ingest", "docs/install.md", cwd=workdir)
    partial = chatui("eval", str(questions), cwd=workdir)
    assert partial.returncode == 0
    assert "3 expected source(s) are not in the knowledge base" in partial.stderr
    assert "Misses" in partial.stdout

    bad = chatui("eval", str(workdir / "nope.json"), cwd=workdir)
    assert bad.returncode == 1 and "Cannot read the question set" in bad.stderr
