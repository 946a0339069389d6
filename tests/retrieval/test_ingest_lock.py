"""ingest_lock: one ingest writes to a data dir at a time; others wait, or fail with a reason."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatui.errors import RetrievalError
from chatui.retrieval import ingest_lock
from chatui.retrieval.ingest import LOCK_FILE

HOLDER = """
import sys
from pathlib import Path
from chatui.retrieval import ingest_lock
with ingest_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock on tmp_path/data until a line is written to its stdin."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "data")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_ingest_lock_held_by_another_process_fails_after_the_timeout_with_a_reason(
    tmp_path: Path, held: subprocess.Popen[str]
):
    waited: list[bool] = []
    started = time.monotonic()
    with (
        pytest.raises(RetrievalError) as caught,
        ingest_lock(tmp_path / "data", timeout_s=0.3, on_wait=lambda: waited.append(True)),
    ):
        pytest.fail("entered a lock another process holds")
    assert waited == [True]
    assert 0.3 <= time.monotonic() - started < 5
    assert caught.value.retryable
    assert "Another chatui ingest" in caught.value.message
    assert "--wait" in caught.value.message


def test_ingest_lock_waits_for_the_other_process_to_finish(
    tmp_path: Path, held: subprocess.Popen[str]
):
    stdin = held.stdin
    assert stdin is not None

    def release() -> None:
        stdin.write("done\n")
        stdin.flush()

    threading.Timer(0.5, release).start()
    started = time.monotonic()
    with ingest_lock(tmp_path / "data", timeout_s=30):
        assert time.monotonic() - started >= 0.4


def test_ingest_lock_is_released_when_its_holder_dies(tmp_path: Path, held: subprocess.Popen[str]):
    held.kill()
    held.wait()
    with ingest_lock(tmp_path / "data", timeout_s=5):
        assert (tmp_path / "data" / LOCK_FILE).exists()


def test_ingest_lock_is_released_on_error_and_can_be_taken_again(tmp_path: Path):
    with pytest.raises(ValueError), ingest_lock(tmp_path / "data", timeout_s=0):
        raise ValueError("boom")
    with ingest_lock(tmp_path / "data", timeout_s=0):
        pass
