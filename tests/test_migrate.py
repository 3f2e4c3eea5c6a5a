"""The migration runner: statement splitting, DSQL translation, ledger, re-runs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from local.pg import drop_database, ensure_database
from sql.migrate import load_migrations, migrate, split_statements, translate


def test_split_ignores_semicolons_in_quotes_and_comments() -> None:
    sql = "-- a; comment\nCREATE TABLE a (x TEXT DEFAULT ';');\nINSERT INTO a VALUES ('b;c'); -- tail;\n"
    assert split_statements(sql) == ["CREATE TABLE a (x TEXT DEFAULT ';')", "INSERT INTO a VALUES ('b;c')"]


def test_translate_for_postgres() -> None:
    assert translate("CREATE INDEX ASYNC IF NOT EXISTS i ON t (c)", dsql=False, substitutions={}) == (
        "CREATE INDEX IF NOT EXISTS i ON t (c)"
    )
    assert (
        translate("CREATE UNIQUE INDEX ASYNC i ON t (c)", dsql=False, substitutions={})
        == "CREATE UNIQUE INDEX i ON t (c)"
    )
    assert translate("AWS IAM GRANT r TO '{{X}}'", dsql=False, substitutions={}) is None
    assert "IF NOT EXISTS" in (translate("CREATE ROLE r WITH LOGIN", dsql=False, substitutions={}) or "")


def test_translate_for_dsql_keeps_syntax_and_fills_role_arns() -> None:
    arn = "arn:aws:iam::123456789012:role/drink-assistant-dev-db-reader"
    assert translate("AWS IAM GRANT da_reader TO '{{R}}'", dsql=True, substitutions={"R": arn}) == (
        f"AWS IAM GRANT da_reader TO '{arn}'"
    )
    assert translate("CREATE INDEX ASYNC i ON t (c)", dsql=True, substitutions={}) == "CREATE INDEX ASYNC i ON t (c)"
    with pytest.raises(SystemExit, match="R"):
        translate("AWS IAM GRANT da_reader TO '{{R}}'", dsql=True, substitutions={})


def test_migrations_are_numbered_and_unique() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(versions)
    assert len({v.split("_")[0] for v in versions}) == len(versions)


@pytest.fixture()
def empty_db(pg_cluster: str) -> Any:
    name = f"da_migrate_{uuid.uuid4().hex[:8]}"
    url = ensure_database(pg_cluster, name)
    yield url
    drop_database(pg_cluster, name)


def test_migrate_applies_everything_once(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        applied = migrate(conn)
        assert applied == [m.version for m in load_migrations()]
        assert migrate(conn) == []
        ledger = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        assert ledger is not None and ledger[0] == len(applied)
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"sections", "drinks", "ingredients", "drink_ingredients", "bar_settings"} <= tables


def test_every_table_is_granted_to_both_roles(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        migrate(conn)
        rows = conn.execute(
            """SELECT t.tablename,
                      has_table_privilege('da_reader', 'public.' || t.tablename, 'SELECT') AS reader_reads,
                      has_table_privilege('da_reader', 'public.' || t.tablename, 'INSERT') AS reader_writes,
                      has_table_privilege('da_writer', 'public.' || t.tablename, 'SELECT') AS writer_reads
               FROM pg_tables t WHERE t.schemaname = 'public' AND t.tablename <> 'schema_migrations'"""
        ).fetchall()
    assert rows
    for table, reader_reads, reader_writes, writer_reads in rows:
        assert reader_reads and writer_reads and not reader_writes, table


def test_a_failing_migration_is_not_recorded(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok (id UUID PRIMARY KEY);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE bad (id UUID PRIMARY KEY, x NOPE);")
    with psycopg.connect(empty_db, autocommit=True) as conn:
        with pytest.raises(psycopg.Error):
            migrate(conn, migrations=load_migrations(tmp_path))
        versions = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    assert versions == {"0001_ok"}
