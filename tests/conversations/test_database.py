"""The database URL: SQLite in the data dir by default, async drivers chosen, clear config errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from chatui.config import Settings
from chatui.conversations import ConversationStore
from chatui.conversations.database import create_engine, database_url
from chatui.errors import ConfigError


def settings_with(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)  # type: ignore[arg-type]


def test_database_default_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    url = database_url(settings_with(tmp_path))
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str((tmp_path / "data" / "chatui.db").resolve())


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgres://u:p@db/chatui", "postgresql+asyncpg"),
        ("postgresql://u:p@db/chatui", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:p@db/chatui", "postgresql+asyncpg"),
        ("sqlite:///elsewhere.db", "sqlite+aiosqlite"),
    ],
)
def test_database_url_gets_an_async_driver(tmp_path: Path, given: str, driver: str) -> None:
    assert database_url(settings_with(tmp_path, database_url=given)).drivername == driver


def test_database_settings_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATUI_DATABASE_URL", "postgresql+asyncpg://chatui:s3cret@db/chatui")
    monkeypatch.setenv("CHATUI_USER_HEADER", "X-Forwarded-User")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.user_header == "X-Forwarded-User"
    assert "s3cret" not in repr(settings)
    assert Settings(_env_file=None, user_header=None).user_header is None  # type: ignore[call-arg]


@pytest.mark.parametrize("given", ["not a url", "://nothing"])
def test_database_bad_url_is_a_config_error(tmp_path: Path, given: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ConversationStore(settings_with(tmp_path, database_url=given))
    assert "CHATUI_DATABASE_URL" in caught.value.message


def test_database_sync_driver_is_a_config_error_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        create_engine(database_url(settings_with(tmp_path, database_url="sqlite+pysqlite:///x.db")))
    assert "async driver" in caught.value.message


@pytest.mark.skipif(importlib.util.find_spec("asyncpg") is not None, reason="asyncpg is installed")
def test_database_missing_driver_says_what_to_install(tmp_path: Path) -> None:
    url = "postgresql://chatui:s3cret@db.example/chatui"
    with pytest.raises(ConfigError) as caught:
        ConversationStore(settings_with(tmp_path, database_url=url))
    assert "chatui[postgres]" in caught.value.message and "asyncpg" in caught.value.message
    assert "s3cret" not in caught.value.message
