"""The database under the conversation store: engine, connection settings, transactions, migrations.

Any async SQLAlchemy URL works (CHATUI_DATABASE_URL); the default is SQLite in the data dir
(CHATUI_DATA_DIR/chatui.db). What must stay true:

- SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout (a second writer
  waits its turn instead of failing), and foreign keys on.
- A write transaction holds the database's write lock from its first statement: SQLite transactions
  are begun `BEGIN IMMEDIATE` (a deferred one that reads first and writes later could fail with
  "database is locked" under a concurrent writer); on PostgreSQL the store locks the conversation
  row (`SELECT ... FOR UPDATE`). So "read the path, then append to it" is atomic everywhere.
- Migrations run inside one such write transaction (on PostgreSQL under an advisory lock too), so
  two processes starting on an empty database at once create the tables exactly once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatui.config import Settings
from chatui.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "chatui_sqlite_begin"
_MIGRATION_LOCK_KEY = 0x63686174  # "chat": the advisory lock PostgreSQL migrations hold

# URLs without an async driver get the one chatui supports for that database.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def database_url(settings: Settings) -> URL:
    """CHATUI_DATABASE_URL with an async driver, or SQLite at CHATUI_DATA_DIR/chatui.db."""
    if settings.database_url is None:
        path = (settings.data_dir / "chatui.db").resolve()
        return URL.create("sqlite+aiosqlite", database=str(path))
    raw = settings.database_url.get_secret_value()
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "CHATUI_DATABASE_URL is not a database URL; use e.g. "
            "postgresql+asyncpg://user:password@host/chatui or sqlite+aiosqlite:///path/chatui.db."
        ) from None
    return url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))


def create_engine(url: URL) -> AsyncEngine:
    """An async engine for `url`, configured as the module docstring says."""
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_async_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite")
    except ModuleNotFoundError as exc:
        extra = " (pip install 'chatui[postgres]')" if exc.name == "asyncpg" else ""
        raise ConfigError(
            f"The database driver for {shown} is not installed: install {exc.name}{extra}, "
            "or unset CHATUI_DATABASE_URL to use SQLite in the data dir."
        ) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a sync driver: say which URL and how to fix it
        raise ConfigError(
            f"CHATUI_DATABASE_URL ({shown}) cannot be used: {exc}. Use an async driver, e.g. "
            "postgresql+asyncpg://... or sqlite+aiosqlite:///..."
        ) from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
        # The driver must not open transactions on its own: `on_begin` does, in the right mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode except on power loss
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction holding SQLite's write lock from the start (PostgreSQL: lock rows in it)."""
    async with engine.connect() as connection:
        await connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction: one consistent snapshot, never waits for a writer in WAL mode."""
    async with engine.connect() as connection, connection.begin():
        yield connection


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (creating it when empty); safe to run at once."""
    # Alembic keeps the running migration in module globals, and run_sync interleaves on the event
    # loop's thread: two migrations in one process (even of different databases) take turns.
    loop = asyncio.get_running_loop()
    lock = _ALEMBIC_LOCKS.setdefault(loop, asyncio.Lock())
    async with lock, write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        await connection.run_sync(_upgrade, "head")


_ALEMBIC_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for chatui's migrations, running on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    try:
        command.upgrade(alembic_config(connection), revision)
    except CommandError as exc:
        raise ConfigError(
            f"The conversation database cannot be upgraded: {exc}. It was probably written by a "
            "newer chatui: upgrade chatui, or point CHATUI_DATABASE_URL at another database."
        ) from None
