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


# -- ingest: every format, progress, the report, --prune, the lock ------------------------------


def _environment(**env: str) -> dict[str, str]:
    ours = ("CHATUI_", "OPENAI_", "ANTHROPIC_")
    return {k: v for k, v in os.environ.items() if not k.startswith(ours)} | env


def _indexed(stdout: str) -> int:
    import re

    found = re.search(r"Indexed (\d+) file\(s\)", stdout)
    assert found, stdout
    return int(found.group(1))


@pytest.fixture
def formats_dir(tmp_path: Path) -> Path:
    from tests.retrieval.conftest import FORMATS
    from tests.retrieval.pdfs import make_pdf

    shutil.copytree(FORMATS, tmp_path / "formats")
    manual = make_pdf([["Backups", "Nightly at 02:00."], ["Restore", "Run restore."]], "Manual")
    (tmp_path / "formats" / "manual.pdf").write_bytes(manual)
    (tmp_path / "formats" / "broken.pdf").write_bytes(manual[: len(manual) // 3])
    return tmp_path


def test_cli_ingest_reads_every_format_prints_progress_lines_and_reports_bad_files(
    formats_dir: Path,
):
    result = chatui("ingest", "formats", cwd=formats_dir)
    assert result.returncode == 0, result.stderr
    assert "Indexed 5 file(s)" in result.stdout and "1 skipped" in result.stdout
    assert "chunks/s)" in result.stdout
    # Not a terminal: plain lines, the last one when every file is done.
    assert "ingest: 6/6 files, " in result.stderr
    assert "chunks/s, ETA 0 s" in result.stderr
    assert "\x1b[" not in result.stderr  # no terminal escapes in a log
    assert "  skipped formats/broken.pdf: is not a readable PDF" in result.stderr
    again = chatui("ingest", "formats", cwd=formats_dir)
    assert "Indexed 0 file(s) (0 chunks), 5 unchanged, 1 skipped" in again.stdout


def test_cli_ingest_draws_a_progress_bar_on_a_terminal(workdir: Path):
    pty = pytest.importorskip("pty")  # Unix only

    for n in range(60):
        (workdir / "docs" / f"page-{n:02d}.md").write_text(f"# Page {n}\n\nAbout topic {n}.\n")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "chatui.cli", "ingest", "docs"],
        cwd=workdir,
        env=_environment(TERM="xterm-256color", COLUMNS="120"),
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        drawn += data
    stdout, _ = process.communicate(timeout=120)
    os.close(controller)
    assert process.returncode == 0
    screen = drawn.decode("utf-8", "replace")
    assert "Indexing" in screen and "files," in screen
    assert "\x1b[" in screen  # drawn in place, not printed line by line
    assert "ingest: " not in screen
    assert "Indexed 64 file(s)" in stdout


def test_cli_ingest_prune_removes_deleted_files_only_with_the_flag(workdir: Path):
    chatui("ingest", "docs", cwd=workdir)
    (workdir / "docs" / "install.md").unlink()
    kept = chatui("ingest", "docs", cwd=workdir)
    assert "removed" not in kept.stdout
    pruned = chatui("ingest", "--prune", "docs", cwd=workdir)
    assert pruned.returncode == 0, pruned.stderr
    assert ", 1 removed," in pruned.stdout
    assert "  removed docs/install.md: deleted from disk" in pruned.stdout


def test_cli_ingest_waits_for_another_ingest_or_gives_up_after_wait(workdir: Path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from chatui.retrieval import ingest_lock\n"
            "with ingest_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); sys.stdin.readline()",
            str(workdir / ".chatui"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        gave_up = chatui("ingest", "--wait", "0.5", "docs", cwd=workdir)
        assert gave_up.returncode == 1
        assert "another ingest is writing to .chatui; waiting up to 0.5 s" in gave_up.stderr
        assert "Another chatui ingest has been writing" in gave_up.stderr
        assert "Traceback" not in gave_up.stderr
        waiting = subprocess.Popen(
            [sys.executable, "-m", "chatui.cli", "ingest", "--wait", "60", "docs"],
            cwd=workdir,
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Release the lock only once the second ingest says it is waiting for it (it may take a
        # while to start: importing Chroma is slow on a loaded machine).
        assert waiting.stderr is not None
        first_line = waiting.stderr.readline()
        assert "waiting up to 60 s" in first_line, first_line
        assert waiting.poll() is None  # still waiting for the lock
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.flush()
        stdout, stderr = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, first_line + stderr
        assert "Indexed 4 file(s)" in stdout
    finally:
        holder.kill()
        holder.wait()


def test_cli_two_ingests_at_once_take_turns_and_leave_a_consistent_store(workdir: Path):
    for n in range(150):
        (workdir / "docs" / f"note-{n:03d}.md").write_text(
            f"# Note {n}\n\n" + "\n\n".join(f"## Part {p}\n\nText {n}.{p}." for p in range(4))
        )
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "chatui.cli", "ingest", "docs"],
            cwd=workdir,
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert sorted(_indexed(out) for out, _ in outputs) == [0, 154]
    check = chatui("ingest", "docs", cwd=workdir)
    assert "Indexed 0 file(s) (0 chunks), 154 unchanged" in check.stdout
    holds = {out.rsplit("now holds ", 1)[1] for out, _ in [*outputs, (check.stdout, "")]}
    assert len(holds) == 1  # every run saw the same, complete knowledge base


def test_cli_ingest_chunk_options_and_a_bad_overlap(workdir: Path):
    sized = chatui("ingest", "--chunk-chars", "300", "--chunk-overlap", "100", "docs", cwd=workdir)
    assert sized.returncode == 0, sized.stderr
    sizes = {"CHATUI_CHUNK_CHARS": "300", "CHATUI_CHUNK_OVERLAP": "100"}
    same = chatui("ingest", "docs", cwd=workdir, **sizes)
    assert "Indexed 0 file(s)" in same.stdout and "4 unchanged" in same.stdout
    bad = chatui("ingest", "docs", cwd=workdir, CHATUI_CHUNK_OVERLAP="700")
    assert bad.returncode == 1
    assert "CHATUI_CHUNK_OVERLAP (700) must be at most half of CHATUI_CHUNK_CHARS" in bad.stderr
