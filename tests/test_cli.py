"""The `chatui` command as a user runs it: a real process, a real knowledge base, no network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_DOCS


def chatui(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CHATUI_", "OPENAI_", "ANTHROPIC_"))}
    environment |= {"CHATUI_OFFLINE_TOKENS_PER_S": "0"} | env
    return subprocess.run(
        [sys.executable, "-m", "chatui.cli", *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE_DOCS, tmp_path / "docs")
    (tmp_path / "docs" / "blob.md").write_bytes(b"\x00\x01\x02 not text")
    return tmp_path


def test_cli_ingests_then_answers_with_sources_and_stats(workdir: Path):
    ingested = chatui("ingest", "docs", cwd=workdir)
    assert ingested.returncode == 0, ingested.stderr
    assert "Indexed 4 file(s)" in ingested.stdout
    assert "skipped docs/blob.md" in ingested.stderr

    again = chatui("ingest", "docs", cwd=workdir)
    assert "4 unchanged" in again.stdout

    asked = chatui("ask", "How do I install Quillmate with pip?", cwd=workdir)
    assert asked.returncode == 0, asked.stderr
    assert "pip install quillmate" in asked.stdout
    assert "Sources:\n  [1] docs/install.md" in asked.stdout
    assert "Searching" in asked.stderr and "tok/s" in asked.stderr and "(estimated)" in asked.stderr


def test_cli_ask_json_prints_every_event(workdir: Path):
    chatui("ingest", "docs", cwd=workdir)
    asked = chatui("ask", "--json", "How do I install Quillmate?", cwd=workdir)
    events = [json.loads(line) for line in asked.stdout.splitlines()]
    assert events[0]["kind"] == "status" and events[-1]["kind"] == "done"
    assert {"citation", "token", "usage"} <= {e["kind"] for e in events}


def test_cli_missing_key_exits_1_naming_the_variable(workdir: Path):
    asked = chatui("ask", "--provider", "openai", "How do I install Quillmate?", cwd=workdir)
    assert asked.returncode == 1
    assert "OPENAI_API_KEY" in asked.stderr


def test_cli_bad_configuration_exits_1_naming_the_variable(workdir: Path):
    asked = chatui("ask", "anything", cwd=workdir, CHATUI_TOP_K="lots")
    assert asked.returncode == 1 and "CHATUI_TOP_K" in asked.stderr
    assert "Traceback" not in asked.stderr


def test_cli_ingest_of_nothing_says_so(workdir: Path):
    result = chatui("ingest", "nowhere/*.md", cwd=workdir)
    assert result.returncode == 1 and "no .md" in result.stderr
