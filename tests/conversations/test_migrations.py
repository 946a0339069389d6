"""Migrations: from an empty database to the models' schema, upgrades that keep data, and races.

`test_migrations_match_the_models` is the guard for schema changes: edit `schema.py` without a
migration and it fails, printing Alembic's diff (what the new migration must do).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, MetaData, String, inspect, text

from chatui.config import Settings
from chatui.conversations import ConversationStore
from chatui.conversations.database import MIGRATIONS_DIR, alembic_config, write_transaction
from chatui.conversations.schema import metadata
from chatui.errors import ConfigError
from tests.conversations.conftest import POSTGRES_URL, answered

SECOND_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = "{head}"


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("pinned", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("pinned")
"""


def head() -> str:
    config = alembic_config(None)  # type: ignore[arg-type]
    return ScriptDirectory.from_config(config).get_current_head() or ""


def diff(connection: Connection, target: MetaData) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target))


async def tables_and_version(store: ConversationStore) -> tuple[set[str], list[str]]:
    async with store.engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    return names, [row[0] for row in versions]


async def test_migrations_create_the_schema_from_empty(store: ConversationStore) -> None:
    if POSTGRES_URL is None:
        assert not (store.settings.data_dir / "chatui.db").exists()

    await store.migrate()

    names, versions = await tables_and_version(store)
    assert names == {"alembic_version", "conversations", "messages", "feedback"}
    assert versions == [head()] and head() == "0001"


async def test_migrations_match_the_models(store: ConversationStore) -> None:
    await store.migrate()
    async with store.engine.connect() as connection:
        differences = await connection.run_sync(diff, metadata)
    assert differences == [], f"schema.py and migrations/versions disagree: {differences}"


async def test_migrations_comparison_notices_a_model_change(store: ConversationStore) -> None:
    await store.migrate()
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["conversations"].append_column(Column("folder", String(80)))

    async with store.engine.connect() as connection:
        differences = await connection.run_sync(diff, changed)

    assert [d[0] for d in differences] == ["add_column"]  # type: ignore[index]


async def test_migrations_run_once_at_first_use(store: ConversationStore) -> None:
    conversation = await store.create_conversation("ada")  # no explicit migrate()
    await store.migrate()
    await store.migrate()

    _, versions = await tables_and_version(store)
    assert versions == [head()]
    assert (await store.get_conversation("ada", conversation.id)).conversation == conversation


async def test_migrations_stores_racing_on_an_empty_database(settings: Settings) -> None:
    stores = [ConversationStore(settings) for _ in range(4)]
    try:
        await asyncio.gather(*(store.migrate() for store in stores))
        created = await asyncio.gather(
            *(store.create_conversation("ada", f"from {i}") for i, store in enumerate(stores))
        )
        _, versions = await tables_and_version(stores[0])
        listed = await stores[0].list_conversations("ada")
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    assert versions == [head()]
    assert {c.id for c in listed} == {c.id for c in created}


async def test_migrations_upgrade_to_a_new_revision_keeps_data(
    store: ConversationStore, settings: Settings, tmp_path: Path
) -> None:
    conversation = await store.create_conversation("ada")
    await answered(store, "ada", conversation.id, "Kept across upgrades?", "Yes.")
    # A future chatui: today's migrations plus one more.
    future = tmp_path / "future_migrations"
    shutil.copytree(MIGRATIONS_DIR, future, ignore=shutil.ignore_patterns("__pycache__"))
    (future / "versions" / "9002_pinned.py").write_text(SECOND_REVISION.format(head=head()))

    def upgrade(connection: Connection) -> None:
        config = alembic_config(connection)
        config.set_main_option("script_location", str(future))
        command.upgrade(config, "head")

    async with write_transaction(store.engine) as connection:
        await connection.run_sync(upgrade)
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("conversations")}
        )
        version = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    assert "pinned" in columns and version == "9002"
    detail = await store.get_conversation("ada", conversation.id)
    assert [m.content for m in detail.messages] == ["Kept across upgrades?", "Yes."]

    # Today's chatui on the future database: a clear error, not a crash mid-request.
    async with ConversationStore(settings) as older:
        with pytest.raises(ConfigError) as caught:
            await older.list_conversations("ada")
    assert "newer chatui" in caught.value.message


async def test_migrations_downgrade_to_empty_and_up_again(store: ConversationStore) -> None:
    await store.migrate()

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "base")

    async with write_transaction(store.engine) as connection:
        await connection.run_sync(downgrade)
    names, versions = await tables_and_version(store)
    assert names == {"alembic_version"} and versions == []

    async with ConversationStore(store.settings) as fresh:
        conversation = await fresh.create_conversation("ada", "again")
        assert (await fresh.list_conversations("ada"))[0].id == conversation.id


def test_migrations_processes_racing_on_an_empty_database(
    settings: Settings, tmp_path: Path
) -> None:
    """Three servers starting at once on a new database: the schema is created exactly once."""
    script = (
        "import asyncio, sys, time\n"
        "from pathlib import Path\n"
        "from chatui.config import Settings\n"
        "from chatui.conversations import ConversationStore\n"
        "barrier = Path(sys.argv[1])\n"
        "(barrier / sys.argv[2]).touch()\n"
        "while len(list(barrier.iterdir())) < 3:\n"  # all imported: now start together
        "    time.sleep(0.002)\n"
        "async def main():\n"
        "    async with ConversationStore(Settings(_env_file=None)) as store:\n"
        "        await store.create_conversation('ada', sys.argv[2])\n"
        "asyncio.run(main())\n"
    )
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = os.environ | {"CHATUI_DATA_DIR": str(settings.data_dir)}
    if POSTGRES_URL is not None:
        env["CHATUI_DATABASE_URL"] = POSTGRES_URL
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(barrier), f"process {n}"], env=env)
        for n in range(3)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0]

    async def check() -> tuple[list[str], set[str]]:
        async with ConversationStore(settings) as store:
            titles = {c.title for c in await store.list_conversations("ada")}
            return (await tables_and_version(store))[1], titles

    versions, titles = asyncio.run(check())
    assert versions == [head()] and titles == {"process 0", "process 1", "process 2"}


@pytest.mark.usefixtures("sqlite_only")
async def test_migrations_of_separate_databases_in_one_process(tmp_path: Path) -> None:
    """Alembic's global state: concurrent migrations of different files must take turns."""
    stores = [
        ConversationStore(Settings(_env_file=None, data_dir=tmp_path / f"db{i}"))  # type: ignore[call-arg]
        for i in range(4)
    ]
    try:
        await asyncio.gather(*(store.migrate() for store in stores))
        versions = [(await tables_and_version(store))[1] for store in stores]
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    assert versions == [[head()]] * 4
