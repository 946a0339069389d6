"""A real browser on a chat page: Debian's Chromium driven by Playwright, with the bench's probe.

`BenchPage` opens a fresh browser context (its own storage, so a fresh chat session), adds
probe.js, counts every byte the page receives over the network through the DevTools protocol
(websocket frame payloads and HTTP bodies, whatever transport a framework streams over; for a
websocket with permessage-deflate, also an estimate of the compressed size), and
aligns the page's clock with the harness's `time.monotonic()`.

Clock alignment: the page's `performance.timeOrigin + performance.now()` is read between two
`time.monotonic()` readings; the tightest of 15 readings gives the offset (its error is at most
half that round trip, typically < 0.5 ms). Both clocks are monotonic on one machine.
What must stay true: the same probe, byte counting and waits for every framework.
"""

from __future__ import annotations

import base64
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROBE_JS = (Path(__file__).parent / "probe.js").read_text()
CHROMIUM = "/usr/bin/chromium"
LOAD_SETTLE_S = 0.5
# As in tests/e2e/conftest.py: without these, Chromium phones home at start.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """How to use one framework's chat page: where to type, and when no answer is in flight."""

    name: str
    url: str
    input_selector: str  # the message box; Enter sends
    idle_js: str  # a JS expression, true when the page shows no answer in progress
    settle_s: float = 0.0  # extra wait after idle, for frameworks that finish asynchronously


@dataclass(frozen=True, slots=True)
class ProbeData:
    seen: dict[int, float]  # marker index -> first time in the DOM (harness monotonic seconds)
    longtasks: tuple[tuple[float, float], ...]  # (start, monotonic s; duration, ms)


@dataclass
class WireCount:
    ws_bytes: int = 0  # websocket message payloads, as the page's JavaScript gets them
    ws_deflated: int = 0  # the same after permessage-deflate, where the server negotiated it (estimated)
    ws_frames: int = 0
    http_bytes: int = 0  # HTTP response bodies (server-sent events, fetches), decoded
    sent_bytes: int = 0
    ws_extensions: set[str] = field(default_factory=set)

    @property
    def received(self) -> int:
        return self.ws_bytes + self.http_bytes

    @property
    def received_on_wire(self) -> int:
        return self.ws_deflated + self.http_bytes


class _Deflate:
    """RFC 7692 permessage-deflate as a server would compress each message: raw deflate, a sync
    flush per message, the trailing 00 00 ff ff dropped; one stream unless no context takeover."""

    def __init__(self, extension: str) -> None:
        self.takeover = "server_no_context_takeover" not in extension
        self._z = self._new()

    @staticmethod
    def _new():
        return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)

    def size(self, payload: bytes) -> int:
        if not self.takeover:
            self._z = self._new()
        return len(self._z.compress(payload) + self._z.flush(zlib.Z_SYNC_FLUSH)) - 4


class Browser:
    def __init__(self) -> None:
        if not Path(CHROMIUM).exists():
            raise RuntimeError("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium).")
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    def close(self) -> None:
        self.browser.close()
        self._playwright.stop()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BenchPage:
    def __init__(self, browser: Browser, target: ChatTarget, *, load_timeout_s: float = 60) -> None:
        self.target = target
        self._closed = False
        self.context = browser.browser.new_context(viewport={"width": 1000, "height": 800})
        self._seen: dict[int, float] = {}  # marker -> page ms, pushed by probe.js
        self._longtasks: list[tuple[float, float]] = []
        self.context.expose_binding("__benchPush", self._push)
        self.context.add_init_script(PROBE_JS)
        self.tab = self.context.new_page()
        self.wire = WireCount()
        self._deflate: dict[str, _Deflate] = {}
        cdp = self.context.new_cdp_session(self.tab)
        cdp.on("Network.webSocketFrameReceived", self._ws_frame)
        cdp.on("Network.webSocketFrameSent", self._ws_sent)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.webSocketHandshakeResponseReceived", self._handshake)
        cdp.send("Network.enable")
        self.tab.goto(target.url, timeout=load_timeout_s * 1000)
        self.tab.locator(target.input_selector).first.wait_for(timeout=load_timeout_s * 1000)
        self.tab.wait_for_function(target.idle_js, timeout=load_timeout_s * 1000)
        self.tab.wait_for_timeout(LOAD_SETTLE_S * 1000)  # let late connections and hydration finish
        self.offset_s = self._calibrate()

    # -- network bytes (DevTools protocol events) -----------------------------------------------------

    @staticmethod
    def _payload(response: dict) -> bytes:
        data = response.get("payloadData", "")
        return base64.b64decode(data) if response.get("opcode") == 2 else data.encode()

    def _ws_frame(self, params: dict) -> None:
        payload = self._payload(params["response"])
        deflate = self._deflate.get(params["requestId"])
        self.wire.ws_bytes += len(payload)
        self.wire.ws_deflated += deflate.size(payload) if deflate else len(payload)
        self.wire.ws_frames += 1

    def _ws_sent(self, params: dict) -> None:
        self.wire.sent_bytes += len(self._payload(params["response"]))

    def _data(self, params: dict) -> None:
        self.wire.http_bytes += params.get("dataLength", 0)

    def _handshake(self, params: dict) -> None:
        headers = {k.lower(): v for k, v in params["response"].get("headers", {}).items()}
        extension = headers.get("sec-websocket-extensions", "")
        self.wire.ws_extensions.add(extension or "none")
        if "permessage-deflate" in extension:
            self._deflate[params["requestId"]] = _Deflate(extension)

    # -- clock and probe ------------------------------------------------------------------------------

    def _calibrate(self) -> float:
        best: tuple[float, float] | None = None
        for _ in range(15):
            t0 = time.monotonic()
            page_ms = self.tab.evaluate("performance.timeOrigin + performance.now()")
            t1 = time.monotonic()
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, page_ms / 1000 - (t0 + t1) / 2)
        assert best is not None
        return best[1]

    def to_monotonic(self, page_ms: float) -> float:
        return page_ms / 1000 - self.offset_s

    def _push(self, source: object, kind: str, a: float, b: float) -> None:
        if kind == "marker":
            self._seen.setdefault(int(a), b)
        else:
            self._longtasks.append((a, b))

    def reset(self) -> None:
        """Forget markers, long tasks and bytes seen so far (call while the page is idle)."""
        self.tab.evaluate("window.__bench.reset()")
        self._seen.clear()
        self._longtasks.clear()
        self.wire = WireCount(ws_extensions=self.wire.ws_extensions)

    def seen(self, marker: int) -> bool:
        return marker in self._seen

    def probe(self) -> ProbeData:
        """What the page pushed so far; never waits on the page."""
        return ProbeData(
            seen={k: self.to_monotonic(t) for k, t in self._seen.items()},
            longtasks=tuple((self.to_monotonic(start), duration) for start, duration in self._longtasks),
        )

    # -- asking -----------------------------------------------------------------------------------------

    def ask(self, question: str) -> float:
        """Type the question and press Enter; the harness's monotonic time just before Enter."""
        box = self.tab.locator(self.target.input_selector).first
        box.fill(question)
        sent_at = time.monotonic()
        box.press("Enter")
        return sent_at

    def wait_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Let Playwright deliver the page's pushes until `done()`; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() > deadline:
                return False
            self.tab.wait_for_timeout(20)
        return True

    def wait_idle(self, timeout_s: float) -> bool:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.tab.wait_for_function(self.target.idle_js, polling=50, timeout=max(1.0, timeout_s) * 1000)
        except PlaywrightTimeout:
            return False
        return True

    def wait_answer(self, last_marker: int, timeout_s: float) -> bool:
        """Wait until the last marker is in the DOM and the page is idle; False on timeout (then the
        page may be stuck: read `probe()`, which does not ask the page, and close it)."""
        deadline = time.monotonic() + timeout_s
        if not self.wait_until(lambda: last_marker in self._seen, timeout_s):
            return False
        if not self.wait_idle(deadline - time.monotonic()):
            return False
        if self.target.settle_s:
            self.tab.wait_for_timeout(self.target.settle_s * 1000)
        return True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.context.close()
