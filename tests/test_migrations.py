"""The schema comes from the Alembic migrations: head equals the models, and every
revision goes down and up again, on SQLite and on PostgreSQL."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, pool

from portal.cli import alembic_config
from portal.extensions import make_engine
from portal.models import Base


@pytest.fixture
def fresh_url(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty database of its own for each test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return request.getfixturevalue("postgres").create_database(f"migrations_{uuid.uuid4().hex[:12]}")


# Database objects that migrations create by hand on purpose, outside the ORM models: the
# full-text search index (an FTS5 virtual table and its shadow tables on SQLite, an
# expression GIN index on PostgreSQL). Anything else unmodelled is a difference.
UNMODELLED_TABLE_PREFIXES = ("item_fts",)
UNMODELLED_INDEXES = {"ix_items_search", "ix_items_list", "ix_items_search_vector", "ix_items_newest",
                      "ix_items_search_key"}
UNMODELLED_COLUMNS = {"search_vector", "search_key"}  # PostgreSQL's stored tsvector (0012), SQLite's FTS rowid (0018)


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "table" and name and name.startswith(UNMODELLED_TABLE_PREFIXES):
        return False
    if type_ == "column" and name in UNMODELLED_COLUMNS:
        return False
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def schema_differences(url: str) -> list[Any]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True,
                                                             "include_name": _include_name})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_there_is_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"parallel branches need a merge revision: {script.get_heads()}"


def test_upgrade_to_head_matches_the_models(fresh_url: str) -> None:
    command.upgrade(alembic_config(fresh_url), "head")
    assert schema_differences(fresh_url) == []
    assert table_names(fresh_url) >= {table.name for table in Base.metadata.sorted_tables}


def test_every_revision_goes_down_and_up_again(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    script = ScriptDirectory.from_config(config)
    revisions = list(script.walk_revisions())  # head first
    assert revisions and revisions[-1].down_revision is None
    command.upgrade(config, "head")

    for revision in revisions:
        assert current_revision(fresh_url) == revision.revision
        target = revision.down_revision or "base"
        assert isinstance(target, str), f"{revision.revision} is a merge point; step through each parent"
        command.downgrade(config, target)
    assert current_revision(fresh_url) is None
    assert table_names(fresh_url) <= {"alembic_version"}

    for revision in reversed(revisions):
        command.upgrade(config, revision.revision)
        assert current_revision(fresh_url) == revision.revision
    assert schema_differences(fresh_url) == []
