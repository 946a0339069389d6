"""The real app, started as a user starts it: `reflex run --env prod` on one port.

The app process gets the fixture knowledge base and the fake upstream through the environment,
exactly as a user configures chatui. The first start builds the frontend with bun (installed by
`make test` into .venv/bun), which takes a minute or two; later starts reuse the build.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatui.config import Settings
from tests.fakes.upstream import FakeUpstream

REPO = Path(__file__).resolve().parents[2]
BUN_BIN = REPO / ".venv" / "bun" / "node_modules" / ".bin"
START_TIMEOUT_S = 900


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bun_dir() -> str:
    if (BUN_BIN / "bun").exists():
        return str(BUN_BIN)
    found = shutil.which("bun")
    if found is None:
        pytest.fail("bun is missing: run the tests with `make test`, which installs it into .venv/bun")
    return str(Path(found).parent)


class App:
    """The app under test as a process that can be restarted (same port, same data)."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env, self._log_path = env, log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        reflex = str(Path(sys.executable).with_name("reflex"))
        command = [reflex, "run", "--env", "prod", "--frontend-port", str(self.port), "--backend-port", str(self.port)]
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=REPO, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                pytest.fail(f"`reflex run` exited with {self._process.returncode}:\n{self._log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer within {START_TIMEOUT_S} s:\n{self._log()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    if httpx.get(self.url, timeout=5).status_code == 200:
                        return
            except httpx.TransportError:
                pass
            time.sleep(0.5)

    def stop(self, crash: bool = False) -> None:
        """Stop the app: a graceful shutdown (SIGTERM), or a crash (SIGKILL: nothing gets to clean up)."""
        if self._process is None:
            return
        os.killpg(self._process.pid, signal.SIGKILL if crash else signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None

    def restart(self, crash: bool = False) -> None:
        self.stop(crash)
        self.start()

    def _log(self) -> str:
        return self._log_path.read_text(errors="replace")[-4000:]


E2E_MAX_UPLOAD_BYTES = 200_000  # small enough that a test can go over it


@pytest.fixture(scope="session")
def app(
    kb_settings: Settings, _upstream_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    env = os.environ | {
        "CHATUI_DATA_DIR": str(kb_settings.data_dir),
        "CHATUI_PROVIDER": "openai",
        "CHATUI_RATE_LIMIT": "0",
        "CHATUI_OFFLINE_TOKENS_PER_S": "0",
        "CHATUI_MAX_UPLOAD_BYTES": str(E2E_MAX_UPLOAD_BYTES),
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": _upstream_server.openai_base_url,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "PATH": _bun_dir() + os.pathsep + os.environ["PATH"],
    }
    running = App(env, tmp_path_factory.mktemp("app") / "reflex.log")
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def app_url(app: App) -> str:
    return app.url


CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium phones home at start; this machine (and a firewalled user's) refuses it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")  # Playwright's loop must be gone before other tests run theirs
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run the tests with `make test`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def ready(tab) -> None:
    """Wait until the chat page is hydrated: a click before that would be lost (the page is
    server-rendered HTML until its websocket is up and its state loaded; only Enter is held)."""
    tab.locator(".layout[data-ready=true]").wait_for(timeout=15_000)


class Page:
    """A browser tab on the app, recording what the server sends over the websocket and what the
    page logs, so tests can check wire cost, secrets and console errors."""

    def __init__(self, browser, app_url: str, viewport: dict[str, int], init_script: str = ""):
        self.context = browser.new_context(viewport=viewport)
        if init_script:
            self.context.add_init_script(init_script)
        self.tab = self.context.new_page()
        self.frames: list[str | bytes] = []
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        self.tab.on("websocket", lambda ws: ws.on("framereceived", lambda frame: self.frames.append(frame)))
        self.tab.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.tab.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.tab.on("dialog", self._dialog)
        self.tab.goto(app_url)
        ready(self.tab)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def received_bytes(self) -> int:
        return sum(len(f.encode() if isinstance(f, str) else f) for f in self.frames)


@pytest.fixture
def chat(browser, app_url: str) -> Iterator[Page]:
    opened = Page(browser, app_url, {"width": 1000, "height": 800})
    yield opened
    opened.context.close()


@pytest.fixture
def page(chat: Page):
    return chat.tab
