"""The value retrieval hands to the rest of chatui: one passage of one document, with its score."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk. `title` is the heading trail ("Install > With pip"); `score` is in [0, 1]."""

    chunk_id: str
    source: str
    title: str
    text: str
    score: float
