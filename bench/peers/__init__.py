"""Peer chat frameworks, each in a minimal app streaming from the same fake upstream, driven by the
same browser harness as chatui: Streamlit (st.write_stream), Gradio (ChatInterface), Chainlit.

They are not chatui dependencies: each gets a virtualenv of its own under bench/.venv-peers/<name>
(git-ignored), created from PyPI by the first run and reused after. Versions are pinned so that
results compare across runs; a peer that cannot be installed or started is reported with the
reason and the others go on (`PeerUnavailable`).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.browser import ChatTarget
from bench.harness import REPO, WORK, ServerProcess, clean_env, free_port

VENVS = REPO / "bench" / ".venv-peers"
APPS = Path(__file__).parent
INSTALL_TIMEOUT_S = 1200


class PeerUnavailable(Exception):
    """The peer could not be installed or started here; the message says why."""


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    requirement: str  # pinned
    app: str  # file in bench/peers
    input_selector: str
    idle_js: str

    @property
    def venv(self) -> Path:
        return VENVS / self.name.lower()

    def command(self, port: int) -> list[str]:
        app, bin_dir = str(APPS / self.app), self.venv / "bin"
        match self.name:
            case "Streamlit":
                return [str(bin_dir / "streamlit"), "run", app, "--server.port", str(port),
                        "--server.address", "127.0.0.1", "--server.headless", "true",
                        "--browser.gatherUsageStats", "false", "--global.developmentMode", "false"]
            case "Chainlit":
                return [str(bin_dir / "chainlit"), "run", app, "--headless", "--host", "127.0.0.1", "--port", str(port)]
            case _:
                return [str(bin_dir / "python"), app]


PEERS = (
    Peer("Streamlit", "streamlit==1.67.0", "streamlit_app.py", "textarea[data-testid=stChatInputTextArea]",
         "!document.querySelector('[data-testid=stStatusWidgetRunningIcon]')"),
    Peer("Gradio", "gradio==6.31.0", "gradio_app.py", "textarea[data-testid=textbox]",
         "!document.querySelector('[data-testid=stop-button]')"),
    Peer("Chainlit", "chainlit==2.12.0", "chainlit_app.py", "#chat-input",
         "!document.getElementById('stop-button')"),
)


def install(peer: Peer, log: Path) -> None:
    """Create the peer's virtualenv and install it (with the openai SDK) unless already done."""
    done = peer.venv / f".installed-{peer.requirement}"
    if done.exists():
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    base_python = getattr(sys, "_base_executable", sys.executable)
    try:
        with log.open("wb") as out:
            subprocess.run([base_python, "-m", "venv", "--clear", str(peer.venv)], check=True, stdout=out, stderr=out)
            subprocess.run([str(peer.venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                            peer.requirement, "openai>=1.40"], check=True, stdout=out, stderr=out,
                           timeout=INSTALL_TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        errors = [line for line in log.read_text(errors="replace").splitlines()
                  if line.strip() and "is ignored: it is neither a file nor a directory" not in line]
        raise PeerUnavailable(f"`pip install {peer.requirement} openai` failed ({exc}): "
                              + " | ".join(errors[-5:])) from None
    done.touch()


def start(peer: Peer, openai_base_url: str, log_dir: Path) -> tuple[ServerProcess, ChatTarget]:
    """Install if needed and start the peer on a free port; (server, how to drive its page)."""
    install(peer, log_dir / f"install-{peer.name.lower()}.log")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cwd = WORK / "peers" / peer.name.lower()  # Chainlit writes its config and chainlit.md here
    cwd.mkdir(parents=True, exist_ok=True)
    env = clean_env(OPENAI_BASE_URL=openai_base_url, PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
                    STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", HF_HUB_OFFLINE="1", DO_NOT_TRACK="1")
    server = ServerProcess(peer.name, peer.command(port), cwd=cwd, env=env, ready=[url],
                           log=log_dir / f"{peer.name.lower()}.log", timeout_s=180)
    try:
        server.start()
    except RuntimeError as exc:
        raise PeerUnavailable(str(exc)) from None
    return server, ChatTarget(peer.name, url, peer.input_selector, peer.idle_js)
