"""Starting what is measured: the chatui app from a copy of the repository, and any server process.

The app is started as a user starts it (`reflex run --env prod`, one port, granian with one worker)
but never from the repository itself: the test suite builds and serves the repository's `.web`
concurrently. `prepare_app()` copies rxconfig.py, chatui/, assets/ and reflex.lock/ into
bench/.work/app (git-ignored; its `.web` is kept between runs so only the first build installs the
frontend packages) and ingests docs/ into bench/.work/kb.

What must stay true: every server runs in a session of its own (so `cpu.session_cpu_s` sees all of
its processes and `stop()` ends all of them, and nothing else); a server that dies or does not
answer in time fails with the tail of its log.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"
BUN_BIN = REPO / ".venv" / "bun" / "node_modules" / ".bin"
APP_FILES = ("rxconfig.py", "chatui", "assets", "reflex.lock")
START_TIMEOUT_S = 900  # the first build installs the frontend packages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the developer's chatui/vendor settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATUI_", "OPENAI_", "ANTHROPIC_"))}
    return env | extra


class ServerProcess:
    """A server started in its own session, ready once every URL in `ready` answers 200."""

    def __init__(self, name: str, command: Sequence[str], *, cwd: Path, env: dict[str, str],
                 ready: Sequence[str], log: Path, timeout_s: float = 120) -> None:
        self.name, self.command, self.cwd, self.env = name, list(command), cwd, env
        self.ready, self.log, self.timeout_s = list(ready), log, timeout_s
        self.process: subprocess.Popen[bytes] | None = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def session_id(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def start(self) -> ServerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + self.timeout_s
        pending = list(self.ready)
        while pending:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer within {self.timeout_s:.0f} s:\n{self.log_tail()}")
            try:
                if httpx.get(pending[0], timeout=5).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        self.process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def prepare_app() -> tuple[Path, Path]:
    """Copy the app into bench/.work/app (keeping its .web) and ingest docs/ afresh; (app dir, data dir)."""
    app, data = WORK / "app", WORK / "kb"
    app.mkdir(parents=True, exist_ok=True)
    for name in APP_FILES:
        source, target = REPO / name, app / name
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    # Rebuilt every run (docs/ is small): a knowledge base left by an older checkout may have been
    # made by another embedder, which the app refuses.
    env = clean_env(CHATUI_DATA_DIR=str(data))
    subprocess.run([str(Path(sys.executable).with_name("chatui")), "ingest", "--reset", "docs"], cwd=REPO,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return app, data


def app_env(data_dir: Path, openai_base_url: str) -> dict[str, str]:
    return clean_env(
        CHATUI_DATA_DIR=str(data_dir),
        CHATUI_PROVIDER="openai",
        CHATUI_RATE_LIMIT="0",
        CHATUI_MAX_HISTORY_MESSAGES="1000",
        CHATUI_MAX_HISTORY_CHARS="10000000",
        OPENAI_API_KEY="sk-bench",
        OPENAI_BASE_URL=openai_base_url,
        REFLEX_USE_SYSTEM_BUN="1",
        PATH=str(BUN_BIN) + os.pathsep + os.environ.get("PATH", ""),
    )


def start_app(openai_base_url: str, log_dir: Path) -> tuple[ServerProcess, str]:
    """The chatui app on a free port under `reflex run --env prod`; (server, url)."""
    app, data = prepare_app()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    reflex = str(Path(sys.executable).with_name("reflex"))
    server = ServerProcess(
        "chatui (reflex run --env prod)",
        [reflex, "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=app, env=app_env(data, openai_base_url), ready=[f"{url}/api/health", url],
        log=log_dir / "chatui.log", timeout_s=START_TIMEOUT_S,
    )
    return server.start(), url


def start_relay(openai_base_url: str, log_dir: Path) -> tuple[ServerProcess, str]:
    """`bench/relay.py` (scenario 4's floor) under granian, one worker, on a free port; (server, url)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    granian = str(Path(sys.executable).with_name("granian"))
    server = ServerProcess(
        "bare SSE relay (granian)",
        [granian, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "bench.relay:app"],
        cwd=REPO, env=dict(os.environ, RELAY_UPSTREAM=openai_base_url), ready=[f"{url}/health"],
        log=log_dir / "relay.log",
    )
    return server.start(), url
