"""Retrieval: find the passages of the team's docs that answer a question.

Import the public names from here: `ChromaStore` (the knowledge base), `ingest_paths` (files ->
chunks -> store) and `ingest_lock` (one writer at a time), `load_document` (any supported format
-> Markdown), the chunkers, the embedders and the `Passage` value the rest of chatui consumes.

What must stay true: importing this package (which every `chatui.retrieval.passage` import does)
does not import chromadb, which takes about a second; the store and ingest names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from chatui.retrieval.chunking import Chunk, chunk_markdown, chunk_text
from chatui.retrieval.embedders import Embedder, HashingEmbedder
from chatui.retrieval.passage import Passage
from chatui.retrieval.word_embedder import WordLlamaEmbedder

if TYPE_CHECKING:
    from chatui.retrieval.ingest import (
        SUPPORTED_SUFFIXES,
        IngestProgress,
        IngestReport,
        SkippedFile,
        ingest_lock,
        ingest_paths,
    )
    from chatui.retrieval.loaders import Document, UnreadableFile, load_document
    from chatui.retrieval.store import ChromaStore, FileChunks

_LAZY = {
    "ChromaStore": "chatui.retrieval.store",
    "FileChunks": "chatui.retrieval.store",
    "SUPPORTED_SUFFIXES": "chatui.retrieval.ingest",
    "IngestProgress": "chatui.retrieval.ingest",
    "IngestReport": "chatui.retrieval.ingest",
    "SkippedFile": "chatui.retrieval.ingest",
    "ingest_paths": "chatui.retrieval.ingest",
    "ingest_lock": "chatui.retrieval.ingest",
    "Document": "chatui.retrieval.loaders",
    "UnreadableFile": "chatui.retrieval.loaders",
    "load_document": "chatui.retrieval.loaders",
}

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ChromaStore",
    "Chunk",
    "Document",
    "Embedder",
    "FileChunks",
    "HashingEmbedder",
    "WordLlamaEmbedder",
    "IngestProgress",
    "IngestReport",
    "Passage",
    "SkippedFile",
    "UnreadableFile",
    "chunk_markdown",
    "chunk_text",
    "ingest_lock",
    "ingest_paths",
    "load_document",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
