"""Everything one bench run measured, saved as bench/results/results.json and read back by the report.

Keeping the raw measurements (not only the tables) means the report and the plots can be redrawn
(`python -m bench --report-only`) and a later run compared sample by sample. NaN is stored as null;
a field missing from an older file gets its default.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from bench.scenarios.browser_suite import AnswerRun
from bench.scenarios.concurrency import LoadStep
from bench.scenarios.markdown import MarkdownResult
from bench.scenarios.sse import SseRun
from bench.stats import Summary


@dataclass(frozen=True, slots=True)
class Environment:
    started: str  # ISO time
    sizes: str  # full | quick | tiny
    cpus: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    python: str
    reflex: str
    chromium: str
    chatui_commit: str
    duration_s: float


@dataclass
class BenchRecord:
    environment: Environment
    browser_runs: list[AnswerRun] = field(default_factory=list)
    sse_runs: list[SseRun] = field(default_factory=list)
    sse_steps: list[LoadStep] = field(default_factory=list)
    relay_steps: list[LoadStep] = field(default_factory=list)  # the same steps on bench/relay.py: the floor
    ui_steps: list[LoadStep] = field(default_factory=list)
    markdown: list[MarkdownResult] = field(default_factory=list)
    peers: dict[str, str] = field(default_factory=dict)  # name -> version, or why it did not run
    errors: list[str] = field(default_factory=list)  # scenarios that failed, with the reason
    notes: list[str] = field(default_factory=list)  # what went wrong and was recovered (a restarted server)
    load_by_phase: list[tuple[str, float]] = field(default_factory=list)  # (phase, 1-minute load average as it began)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(_plain(dataclasses.asdict(self)), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> BenchRecord:
        return _build(cls, json.loads(path.read_text()))


def _plain(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_TYPES = {t.__name__: t for t in (Environment, AnswerRun, SseRun, LoadStep, MarkdownResult, Summary)}


def _build(kind: object, data: object) -> typing.Any:
    """Rebuild `kind` (a dataclass, tuple, list, dict or scalar type) from its JSON form."""
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind, localns=_TYPES)
        present = [f for f in dataclasses.fields(kind) if f.name in data]  # type: ignore[operator]
        return kind(**{f.name: _build(hints[f.name], data[f.name]) for f in present})  # type: ignore[index]
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple and len(args) > 1 and args[1] is not Ellipsis:  # a fixed-length tuple
        return tuple(_build(a, v) for a, v in zip(args, data))  # type: ignore[arg-type]
    if origin in (list, tuple):
        item = args[0] if args else object
        return origin(_build(item, v) for v in data)  # type: ignore[union-attr]
    if origin is dict:
        return dict(data)  # type: ignore[call-overload]
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return None if data is None else _build(real[0], data)
    if kind is float:
        return math.nan if data is None else float(data)  # type: ignore[arg-type]
    return data
