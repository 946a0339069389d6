"""Summaries of repeated measurements: median, p95, p99, and the formatting the tables share.

Percentiles interpolate linearly between order statistics (numpy's default, "type 7"), so a p95
of 30 samples sits between the 28th and 29th smallest. Values are plain floats in the unit of the
caller (the tables say which); an empty sample is NaN, shown as "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def percentile(values: Iterable[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    median: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        data = list(values)
        return cls(len(data), percentile(data, 50), percentile(data, 95), percentile(data, 99),
                   max(data) if data else math.nan)


def fmt(value: float, digits: int = 1) -> str:
    """A number for a table: thousands separators, `digits` decimals, "n/a" for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def ratio(a: float, b: float) -> str:
    """a / b as "1.23×", or "n/a" when either side is missing or b is 0."""
    if any(v is None or math.isnan(v) for v in (a, b)) or b == 0:
        return "n/a"
    return f"{a / b:.2f}×"
