"""Migration lint: rejects what Aurora DSQL rejects, before it reaches a cluster.

`lint_sql(text)` returns a list of problems (empty when the migration is fine).
`python -m sql.lint` checks every file in sql/migrations.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sql.migrate import MIGRATIONS_DIR, split_statements

ROLES = ("da_reader", "da_writer")

_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|GRANT|REVOKE|COMMENT|AWS\s+IAM)\b", re.IGNORECASE)
_DML = re.compile(r"^\s*(INSERT|UPDATE|DELETE|SELECT|WITH)\b", re.IGNORECASE)
_BEGIN = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION)\b", re.IGNORECASE)
_END = re.compile(r"^\s*(COMMIT|END|ROLLBACK)\b", re.IGNORECASE)
_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"]+)",
    re.IGNORECASE,
)
_GRANT_ON = re.compile(r"^\s*GRANT\s+(.+?)\s+ON\s+(?:TABLE\s+)?([\w.\", ]+?)\s+TO\s+(.+)$", re.IGNORECASE | re.DOTALL)

# (pattern, message): constructs Aurora DSQL does not support.
FORBIDDEN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bFOREIGN\s+KEY\b|\bREFERENCES\b", re.IGNORECASE), "foreign keys are not supported"),
    (re.compile(r"\b(SMALL|BIG)?SERIAL\d?\b", re.IGNORECASE), "SERIAL is not supported (use UUID keys)"),
    (
        re.compile(r"\bCREATE\s+(OR\s+REPLACE\s+)?(CONSTRAINT\s+)?TRIGGER\b", re.IGNORECASE),
        "triggers are not supported",
    ),
    (re.compile(r"\bTRUNCATE\b", re.IGNORECASE), "TRUNCATE is not supported"),
    (
        re.compile(r"\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?(TEMP|TEMPORARY)\s+TABLE\b", re.IGNORECASE),
        "temporary tables are not supported",
    ),
    (re.compile(r"\bJSONB?\b", re.IGNORECASE), "JSON/JSONB columns are not supported (store JSON as TEXT)"),
    (re.compile(r"\bCREATE\s+EXTENSION\b", re.IGNORECASE), "extensions are not supported"),
    (re.compile(r"\bSAVEPOINT\b", re.IGNORECASE), "SAVEPOINT is not supported"),
    (
        re.compile(r"\bALTER\s+DEFAULT\s+PRIVILEGES\b", re.IGNORECASE),
        "ALTER DEFAULT PRIVILEGES is not supported (GRANT per table)",
    ),
]
_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.IGNORECASE)
_INDEX_ASYNC = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+ASYNC\b", re.IGNORECASE)
_SEQUENCE = re.compile(r"^\s*CREATE\s+SEQUENCE\b", re.IGNORECASE)
_CACHE = re.compile(r"\bCACHE\s+\d+", re.IGNORECASE)


def _name(raw: str) -> str:
    return raw.strip().strip('"').split(".")[-1].strip('"').lower()


def lint_sql(text: str) -> list[str]:
    problems: list[str] = []
    statements = split_statements(text)
    tables: list[str] = []
    grants: dict[str, set[str]] = {}
    in_tx = False
    tx_ddl = tx_dml = 0
    for number, statement in enumerate(statements, start=1):
        head = " ".join(statement.split())[:70]
        where = f"statement {number} ({head})"
        for pattern, message in FORBIDDEN:
            if pattern.search(statement):
                problems.append(f"{where}: {message}")
        if _INDEX.match(statement) and not _INDEX_ASYNC.match(statement):
            problems.append(f"{where}: indexes must be created with CREATE INDEX ASYNC")
        if _SEQUENCE.match(statement) and not _CACHE.search(statement):
            problems.append(f"{where}: a sequence needs an explicit CACHE")
        table = _CREATE_TABLE.match(statement)
        if table:
            tables.append(_name(table.group(1)))
        grant = _GRANT_ON.match(statement)
        if grant and not re.match(r"^\s*(ALL\s+TABLES|SCHEMA)\b", grant.group(2), re.IGNORECASE):
            grantees = {_name(g) for g in grant.group(3).split(",")}
            for table_name in grant.group(2).split(","):
                grants.setdefault(_name(table_name), set()).update(grantees)
        if _BEGIN.match(statement):
            in_tx, tx_ddl, tx_dml = True, 0, 0
            continue
        if _END.match(statement):
            if tx_ddl > 1:
                problems.append(f"{where}: {tx_ddl} DDL statements in one transaction (DSQL allows one)")
            if tx_ddl and tx_dml:
                problems.append(f"{where}: DDL and DML mixed in one transaction")
            in_tx = False
            continue
        if in_tx:
            if _DDL.match(statement):
                tx_ddl += 1
            elif _DML.match(statement):
                tx_dml += 1
    if in_tx:
        problems.append("a transaction is opened and never committed")
    for table_name in tables:
        missing = [role for role in ROLES if role not in grants.get(table_name, set())]
        if missing:
            problems.append(f"table {table_name}: no GRANT to {', '.join(missing)} in this migration")
    return problems


def lint_directory(directory: Path = MIGRATIONS_DIR) -> dict[str, list[str]]:
    return {path.name: lint_sql(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.sql"))}


def main() -> int:
    failed = False
    for name, problems in lint_directory().items():
        for problem in problems:
            failed = True
            print(f"{name}: {problem}")
    print("migration lint: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
