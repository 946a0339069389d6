"""The offline default embedder: WordLlama's word vectors, shipped inside its PyPI wheel.

Why this exists: a question rarely uses the docs' words ("a slow job freezes the interface" vs
"long-running tasks without blocking the UI"), and hashed bags of words cannot see that two
different words mean the same. WordLlama (MIT, `pip install wordllama`) is a table of token
vectors distilled from a large language model's embedding layer; a text's vector is the mean of
its tokens' vectors. Its 256-dimension weights and tokenizer are files in the wheel, so it works
with no network and no key, and it embeds thousands of chunks a second on one core.

What must stay true:

- Nothing downloads: the model is loaded from the installed package with downloads disabled
  (WordLlama's own loader looks for the tokenizer in a folder the wheel does not have, then goes
  to Hugging Face; passing the package folder as its cache avoids both).
- Every vector has unit L2 norm; a text with no tokens gets a fixed unit vector, never zeros.
- The output depends only on the text and `name`; anything that changes a vector (model, dimension,
  pooling) changes `name`, so the store asks for a re-ingest instead of mixing vector spaces.
- Loading is lazy and happens once per process (the model is about 17 MB); `embed` is
  thread-safe (the tokenizer is Rust and reentrant, the table is read-only).
- Importing WordLlama leaves the process's logging as it was: its modules call
  `logging.basicConfig(level=INFO)` at import, which would print every library's INFO records
  (httpx2's line per upstream request among them) in the server's log.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from chatui.errors import ConfigError
from chatui.retrieval.embedders import unit_rows

_CONFIG, _DIM = "l2_supercat", 256
_BATCH = 128  # texts per tokenizer call: bounds the (tokens x dim) gather to a few MB
_EMPTY = np.eye(1, _DIM, dtype=np.float32)[0]  # the vector of a text with no tokens


class WordLlamaEmbedder:
    """Mean of WordLlama token vectors (l2_supercat, 256 dimensions), L2-normalised."""

    name = f"wordllama-{_CONFIG}-{_DIM}-v1"
    dimensions = _DIM
    # Mean word vectors share a common direction: unrelated texts reach cosines of 0.1 to 0.2, and
    # the Reflex docs' eval ranks best with the noise counted from 0.15 (see hybrid.py).
    cosine_floor = 0.15

    def __repr__(self) -> str:
        return f"WordLlamaEmbedder(name={self.name!r})"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors as a float32 array of shape (len(texts), dimensions)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; wrap a single text in a list")
        table, tokenizer = _model()
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            batch = [text or "" for text in texts[start : start + _BATCH]]
            encoded = tokenizer.encode_batch(batch, add_special_tokens=False)  # type: ignore[attr-defined]
            out[start : start + len(batch)] = _mean_vectors(table, [e.ids for e in encoded])
        return unit_rows(out, _EMPTY)


def _mean_vectors(table: np.ndarray, token_ids: list[list[int]]) -> np.ndarray:
    """Each text's mean token vector (zeros for a text with no tokens)."""
    lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(token_ids))
    out = np.zeros((len(token_ids), table.shape[1]), dtype=np.float32)
    if not lengths.sum():
        return out
    flat = np.fromiter((i for ids in token_ids for i in ids), dtype=np.int64, count=int(lengths.sum()))
    np.clip(flat, 0, table.shape[0] - 1, out=flat)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    present = lengths > 0
    sums = np.add.reduceat(table[flat], starts[present], axis=0)
    out[present] = sums / lengths[present, None]
    return out


@functools.cache  # one copy per process, shared by every instance and thread (it is read-only)
def _model() -> tuple[np.ndarray, object]:
    try:
        with _root_logging_kept():
            import wordllama
            from wordllama import WordLlama
    except ImportError as exc:  # a broken install; it is a dependency of chatui
        raise ConfigError(
            "The offline embedder needs the `wordllama` package: run `pip install wordllama` "
            "(or `make install`), or set CHATUI_EMBEDDER=hashing."
        ) from exc
    package = Path(wordllama.__file__).parent
    try:
        model = WordLlama.load(config=_CONFIG, dim=_DIM, cache_dir=package, disable_download=True)
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"WordLlama's bundled model was not found in {package} ({exc}). Reinstall it with "
            "`pip install --force-reinstall wordllama`, or set CHATUI_EMBEDDER=hashing."
        ) from exc
    tokenizer = model.tokenizer
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return np.ascontiguousarray(model.embedding, dtype=np.float32), tokenizer


@contextlib.contextmanager
def _root_logging_kept() -> Iterator[None]:
    """Undo what an import does to the root logger (its level and handlers)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
