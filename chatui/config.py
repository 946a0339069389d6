"""Settings from environment variables and an optional `.env`, read once, at first use.

Every setting has one environment variable (listed in the README). What must stay true:

- Importing this module reads nothing; `get_settings()` reads the environment the first time it is
  called, so a bad value fails where it is used, with a message naming the variable to fix.
- A missing API key is not an error here: only choosing that provider is (see `providers`).
- Secrets are `SecretStr`: they never appear in a repr, a log line or anything sent to a browser.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatui.errors import ConfigError

ProviderName = Literal["offline", "openai", "anthropic"]


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(name, *aliases)


class Settings(BaseSettings):
    """All of chatui's configuration. Construct directly in tests; use `get_settings()` elsewhere."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    # Which model answers.
    provider: ProviderName = Field("offline", validation_alias=_env("CHATUI_PROVIDER"))
    model: str | None = Field(None, validation_alias=_env("CHATUI_MODEL"))
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    anthropic_api_key: SecretStr | None = Field(None, validation_alias=_env("ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(None, validation_alias=_env("ANTHROPIC_BASE_URL"))
    offline_tokens_per_s: float = Field(
        40.0, ge=0, validation_alias=_env("CHATUI_OFFLINE_TOKENS_PER_S")
    )
    max_output_tokens: int = Field(1024, gt=0, validation_alias=_env("CHATUI_MAX_OUTPUT_TOKENS"))
    request_timeout_s: float = Field(60.0, gt=0, validation_alias=_env("CHATUI_REQUEST_TIMEOUT_S"))
    max_retries: int = Field(2, ge=0, le=10, validation_alias=_env("CHATUI_MAX_RETRIES"))

    # The knowledge base.
    data_dir: Path = Field(Path(".chatui"), validation_alias=_env("CHATUI_DATA_DIR"))
    collection: str = Field("docs", min_length=3, validation_alias=_env("CHATUI_COLLECTION"))
    top_k: int = Field(5, ge=1, le=50, validation_alias=_env("CHATUI_TOP_K"))
    min_score: float = Field(0.1, ge=0, le=1, validation_alias=_env("CHATUI_MIN_SCORE"))
    chunk_chars: int = Field(1000, ge=200, validation_alias=_env("CHATUI_CHUNK_CHARS"))
    chunk_overlap: int = Field(0, ge=0, validation_alias=_env("CHATUI_CHUNK_OVERLAP"))
    ingest_root: Path | None = Field(None, validation_alias=_env("CHATUI_INGEST_ROOT"))
    embedder: Literal["wordllama", "hashing", "openai", "minilm"] = Field(
        "wordllama", validation_alias=_env("CHATUI_EMBEDDER")
    )
    embedding_model: str = Field(
        "text-embedding-3-small", validation_alias=_env("CHATUI_EMBEDDING_MODEL")
    )
    chroma_host: str | None = Field(None, validation_alias=_env("CHROMA_HOST"))
    chroma_port: int = Field(8000, gt=0, lt=65536, validation_alias=_env("CHROMA_PORT"))
    max_upload_bytes: int = Field(
        50 * 1024 * 1024, gt=0, validation_alias=_env("CHATUI_MAX_UPLOAD_BYTES")
    )

    # Limits on what a client may send, and how the API streams.
    max_message_chars: int = Field(8000, gt=0, validation_alias=_env("CHATUI_MAX_MESSAGE_CHARS"))
    max_history_messages: int = Field(
        50, ge=0, validation_alias=_env("CHATUI_MAX_HISTORY_MESSAGES")
    )
    max_history_chars: int = Field(
        100_000, ge=0, validation_alias=_env("CHATUI_MAX_HISTORY_CHARS")
    )
    rate_limit: str = Field("60/minute", validation_alias=_env("CHATUI_RATE_LIMIT"))
    sse_ping_s: float = Field(15.0, gt=0, validation_alias=_env("CHATUI_SSE_PING_S"))

    # Conversation history (chatui.conversations) and who is asking.
    # None: SQLite at CHATUI_DATA_DIR/chatui.db; else any async SQLAlchemy URL, e.g.
    # postgresql+asyncpg://user:password@host/chatui (a secret: never shown).
    database_url: SecretStr | None = Field(None, validation_alias=_env("CHATUI_DATABASE_URL"))
    # The request header an authenticating reverse proxy sets to the user's id (e.g.
    # X-Forwarded-User); None: off, each browser is its own user.
    user_header: str | None = Field(None, min_length=1, validation_alias=_env("CHATUI_USER_HEADER"))

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def max_body_bytes(self) -> int:
        """The largest request body the API reads: every limit filled with 4-byte characters."""
        return 4 * (self.max_message_chars + self.max_history_chars) + 64 * 1024


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`; a bad value raises `ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            info = Settings.model_fields.get(field)
            alias = info.validation_alias if info else None
            name = alias.choices[0] if isinstance(alias, AliasChoices) else field
            shown = "" if "KEY" in name else f" (got {err.get('input')!r})"
            problems.append(f"{name}: {err['msg']}{shown}")
        raise ConfigError(
            "chatui's configuration is invalid; fix these environment variables (or .env): "
            + "; ".join(problems)
        ) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()
