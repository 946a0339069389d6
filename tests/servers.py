"""Real HTTP servers for tests: any ASGI app under uvicorn on 127.0.0.1, in a background thread.

The server gets its own event loop, so it keeps serving while a test blocks or runs its own loop,
and traffic crosses a real socket (disconnects, chunking and headers are the real ones).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable

import uvicorn


class ServerThread:
    def __init__(self, app: Callable, *, on_stop: Callable[[], None] | None = None) -> None:
        self._app = app
        self._on_stop = on_stop
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.base_url = ""

    def start(self) -> ServerThread:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            lifespan="off",
            proxy_headers=False,
            log_config=None,  # leave the test process's logging alone
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server, self.loop = uvicorn.Server(config), asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_until_complete,
            args=(self._server.serve([sock]),),
            name=f"server-{self.base_url}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 5
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The test server did not start within 5 s; see the log above.")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None or self.loop is None:
            return
        self._server.should_exit = True
        if self._on_stop is not None:
            self.loop.call_soon_threadsafe(self._on_stop)
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            raise RuntimeError("The test server did not stop within 5 s; a handler is stuck.")
        self.loop.close()
        self._server = self._thread = self.loop = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
