"""Embedders other than the offline ones: OpenAI's (or any OpenAI-compatible) embeddings
endpoint, and Chroma's MiniLM ONNX model when it is already on disk; and the choice among all.

Chosen with CHATUI_EMBEDDER (wordllama | hashing | openai | minilm). What must stay true: nothing
downloads at run time (MiniLM is used only if its files are already cached, else a clear error says
how to get them); `name` identifies the vector space (model included), so the store refuses to mix
vectors of two embedders and says how to re-ingest; calls are blocking and run in the store's threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chatui.config import Settings
from chatui.errors import ConfigError, RetrievalError
from chatui.retrieval.embedders import Embedder, HashingEmbedder
from chatui.retrieval.word_embedder import WordLlamaEmbedder

BATCH = 128


class OpenAIEmbedder:
    """Embeddings from OpenAI's /v1/embeddings, or a compatible server's (OPENAI_BASE_URL)."""

    def __init__(self, model: str, *, api_key: str, base_url: str | None, timeout_s: float = 60.0):
        import openai

        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s)
        self._model = model
        self.name = f"openai:{model}"
        self.dimensions = 0  # known after the first call

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import openai

        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = [text or " " for text in texts[start : start + BATCH]]
            try:
                response = self._client.embeddings.create(model=self._model, input=batch)
            except openai.APIError as exc:
                raise RetrievalError(
                    f"The embeddings endpoint failed ({exc}). Check OPENAI_API_KEY, OPENAI_BASE_URL "
                    "and CHATUI_EMBEDDING_MODEL, or set CHATUI_EMBEDDER=wordllama to work offline.",
                    retryable=True,
                ) from exc
            for item in sorted(response.data, key=lambda d: d.index):
                vector = np.asarray(item.embedding, dtype=np.float32)
                norm = float(np.linalg.norm(vector)) or 1.0
                vectors.append((vector / norm).tolist())
        if vectors:
            self.dimensions = len(vectors[0])
        return vectors


class MiniLMEmbedder:
    """Chroma's all-MiniLM-L6-v2 (ONNX), only if its model files are already on this machine."""

    name = "minilm-l6-v2"
    dimensions = 384

    def __init__(self) -> None:
        from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

        function = ONNXMiniLM_L6_V2()
        model_dir = Path(function.DOWNLOAD_PATH) / function.EXTRACTED_FOLDER_NAME
        if not (model_dir / "model.onnx").exists():
            raise ConfigError(
                f"CHATUI_EMBEDDER=minilm needs Chroma's MiniLM model in {model_dir}, and chatui never "
                "downloads at run time. Copy the model there (it is what Chroma downloads on a machine "
                "with internet access), or use CHATUI_EMBEDDER=wordllama (offline) or openai."
            )
        self._function = function

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [list(map(float, vector)) for vector in self._function(list(texts))]


def embedder_from_settings(settings: Settings) -> Embedder:
    if settings.embedder == "wordllama":
        return WordLlamaEmbedder()
    if settings.embedder == "hashing":
        return HashingEmbedder()
    if settings.embedder == "minilm":
        return MiniLMEmbedder()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key and not settings.openai_base_url:
        raise ConfigError(
            "CHATUI_EMBEDDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server "
            "that needs no key)."
        )
    return OpenAIEmbedder(
        settings.embedding_model,
        api_key=key or "not-needed",
        base_url=settings.openai_base_url,
        timeout_s=settings.request_timeout_s,
    )
