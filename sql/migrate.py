"""Migration runner: `python -m sql.migrate` (also `make migrate`, and `make local`).

* Migrations are `sql/migrations/NNNN_name.sql`, written for Aurora DSQL.
* Each statement runs in its own transaction (DSQL: one DDL statement per
  transaction, never DDL and DML together); each applied file is recorded in
  `schema_migrations` with its checksum, so a re-run applies nothing.
* On plain PostgreSQL the DSQL-only syntax is translated: `CREATE INDEX ASYNC` loses
  `ASYNC`, `AWS IAM GRANT` is skipped, and `CREATE ROLE` tolerates an existing role
  (roles are cluster-wide; test databases share them).
* It connects as the administrator: `DATABASE_URL` as given, or the DSQL `admin` user
  with a token from `generate_db_connect_admin_auth_token`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger("drink_assistant.migrate")

_INDEX_ASYNC = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+ASYNC\b", re.IGNORECASE)
_IAM_GRANT = re.compile(r"^\s*AWS\s+IAM\s+GRANT\b", re.IGNORECASE)
_CREATE_ROLE = re.compile(r"^\s*CREATE\s+ROLE\s+(\w+)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path
    statements: list[str]
    checksum: str


def split_statements(text: str) -> list[str]:
    """Split SQL on semicolons outside quotes, dropping `--` comments."""
    statements: list[str] = []
    current: list[str] = []
    i, quote = 0, ""
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in ("'", '"'):
            quote = ch
            current.append(ch)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
            continue
        elif ch == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
        else:
            current.append(ch)
        i += 1
    tail = "".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        migrations.append(
            Migration(
                version=path.stem,
                path=path,
                statements=split_statements(text),
                checksum=hashlib.sha256(text.encode()).hexdigest(),
            )
        )
    return migrations


def translate(statement: str, *, dsql: bool, substitutions: dict[str, str]) -> str | None:
    """The statement as this database runs it, or None to skip it."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = substitutions.get(name, "")
        if not value:
            raise SystemExit(f"migration needs {name} (set it in the environment)")
        return value

    if dsql:
        return _PLACEHOLDER.sub(fill, statement)
    if _IAM_GRANT.match(statement):
        return None
    if _INDEX_ASYNC.match(statement):
        return re.sub(r"\bINDEX\s+ASYNC\b", "INDEX", statement, count=1, flags=re.IGNORECASE)
    role = _CREATE_ROLE.match(statement)
    if role:
        return (
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role.group(1)}') THEN {statement}; END IF; "
            "END $$"
        )
    return statement


def ensure_ledger(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version TEXT PRIMARY KEY,
               checksum TEXT NOT NULL,
               applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
    )


def applied_versions(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    return {row[0]: row[1] for row in rows}


def migrate(
    conn: psycopg.Connection[Any],
    *,
    dsql: bool = False,
    substitutions: dict[str, str] | None = None,
    migrations: list[Migration] | None = None,
) -> list[str]:
    """Apply pending migrations; returns the versions applied. `conn` is autocommit."""
    conn.autocommit = True
    substitutions = substitutions if substitutions is not None else dict(os.environ)
    ensure_ledger(conn)
    done = applied_versions(conn)
    applied = []
    for migration in migrations if migrations is not None else load_migrations():
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                log.warning("migration %s changed after it was applied", migration.version)
            continue
        for statement in migration.statements:
            sql = translate(statement, dsql=dsql, substitutions=substitutions)
            if sql is None:
                continue
            # Autocommit: every statement is its own transaction.
            conn.execute(sql)  # type: ignore[arg-type]
        conn.execute(
            "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
            (migration.version, migration.checksum),
        )
        applied.append(migration.version)
        log.info("applied migration %s", migration.version)
    return applied


def admin_connection() -> tuple[psycopg.Connection[Any], bool]:
    """A connection as the administrator, and whether it is Aurora DSQL."""
    from chalicelib.config import settings

    config = settings()
    if config.database_url:
        return psycopg.connect(config.database_url, autocommit=True), False
    if not config.dsql_endpoint:
        raise SystemExit("set DATABASE_URL or DSQL_ENDPOINT")
    import boto3

    client = boto3.client("dsql", region_name=config.region)
    token = client.generate_db_connect_admin_auth_token(Hostname=config.dsql_endpoint, Region=config.region)
    conn = psycopg.connect(
        host=config.dsql_endpoint,
        port=5432,
        dbname=config.db_name,
        user="admin",
        password=token,
        sslmode="require",
        autocommit=True,
    )
    return conn, True


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    conn, dsql = admin_connection()
    with conn:
        applied = migrate(conn, dsql=dsql)
    print(f"migrations applied: {len(applied)}" + (f" ({', '.join(applied)})" if applied else " (up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
