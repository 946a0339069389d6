"""CPU time of process trees, read from /proc: what a server (or the browser) spent, whatever its
threads or worker processes.

`reflex run --env prod` is a CLI process plus a granian worker process; a peer app may fork too.
A tree is every live process in the session of its root (the harness starts each server with
`start_new_session=True`). Times are user + system seconds (Linux only; /proc/<pid>/stat fields
14 and 15). Children that already exited are not counted: servers here keep their workers alive.

A session's meter also reports its busiest thread. A Python server runs its event loop on one
thread: once that thread is near 1.0 core it falls behind, however many cores the machine has left.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses


def _ticks(fields: list[str]) -> int:
    # After the name: state(0) ppid(1) pgrp(2) session(3) ... utime(11) stime(12)
    return int(fields[11]) + int(fields[12])


def _session(session_id: int) -> Iterator[tuple[str, list[str]]]:
    """(pid, stat fields) of every live process in the session `session_id`."""
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (fields := _stat_fields(pid)) is not None and int(fields[3]) == session_id:
            yield pid, fields


def session_cpu_s(session_id: int, command: str | None = None) -> float:
    """User + system CPU seconds of every live process in the session `session_id` (only those
    whose command name is `command`, if given: e.g. "chromium" for the browser's processes)."""
    return sum(_ticks(fields) for pid, fields in _session(session_id)
               if command is None or _command(pid) == command) / _TICK


def session_threads_cpu_s(session_id: int) -> dict[tuple[int, int], float]:
    """User + system CPU seconds of each thread of every live process in the session, by (pid, tid)."""
    times: dict[tuple[int, int], float] = {}
    for pid, _ in _session(session_id):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            if (thread := _stat_fields(f"{pid}/task/{tid}")) is not None:
                times[int(pid), int(tid)] = _ticks(thread) / _TICK
    return times


def descendants_cpu_s(ancestor: int, command: str | None = None) -> float:
    """User + system CPU seconds of every live descendant of `ancestor` (only those whose command
    name is `command`, if given). Playwright starts Chromium in a session of its own, so the
    browser is found as a descendant of the harness rather than by session."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (fields := _stat_fields(pid)) is not None:
            parents[int(pid)] = int(fields[1])
            if command is None or _command(pid) == command:
                times[int(pid)] = _ticks(fields)
    total = 0
    for pid, ticks in times.items():
        up = parents.get(pid, 0)
        while up > 1 and up != ancestor:
            up = parents.get(up, 0)
        if up == ancestor:
            total += ticks
    return total / _TICK


def _command(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def process_cpu_s(pid: int) -> float:
    fields = _stat_fields(str(pid))
    return 0.0 if fields is None else _ticks(fields) / _TICK


@dataclass
class CpuMeter:
    """CPU seconds and wall seconds between `start()` and `stop()` for a session (or one pid)."""

    session_id: int | None = None
    pid: int | None = None
    ancestor: int | None = None  # every descendant of this process
    command: str | None = None  # with session_id or ancestor: only processes of this command name
    cpu_s: float = 0.0
    wall_s: float = 0.0
    busiest_thread_s: float = 0.0  # with session_id: the CPU seconds of its busiest thread

    def _read(self) -> float:
        if self.session_id is not None:
            return session_cpu_s(self.session_id, self.command)
        if self.ancestor is not None:
            return descendants_cpu_s(self.ancestor, self.command)
        if self.pid is not None:
            return process_cpu_s(self.pid)
        return time.process_time()

    def start(self) -> CpuMeter:
        self._threads0 = session_threads_cpu_s(self.session_id) if self.session_id is not None else {}
        self._cpu0, self._wall0 = self._read(), time.monotonic()
        return self

    def stop(self) -> CpuMeter:
        self.cpu_s, self.wall_s = self._read() - self._cpu0, time.monotonic() - self._wall0
        if self.session_id is not None:
            threads = session_threads_cpu_s(self.session_id)
            self.busiest_thread_s = max(
                (seconds - self._threads0.get(key, 0.0) for key, seconds in threads.items()), default=0.0
            )
        return self

    @property
    def utilisation(self) -> float:
        """CPU seconds per wall second (1.0 = one core busy)."""
        return self.cpu_s / self.wall_s if self.wall_s else 0.0

    @property
    def busiest_thread_utilisation(self) -> float:
        """The busiest thread's CPU seconds per wall second (a thread cannot go past 1.0)."""
        return self.busiest_thread_s / self.wall_s if self.wall_s else 0.0
