"""The migration lint rejects what Aurora DSQL rejects; the real migrations pass it."""

from __future__ import annotations

import pytest

from sql.lint import lint_directory, lint_sql

GRANTS = """
GRANT SELECT ON t TO da_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON t TO da_writer;
"""


def test_project_migrations_are_clean() -> None:
    results = lint_directory()
    assert results, "no migrations found"
    assert {name: problems for name, problems in results.items() if problems} == {}


def test_a_good_sample_passes() -> None:
    sql = "CREATE TABLE t (id UUID PRIMARY KEY, doc TEXT);" + GRANTS + "CREATE INDEX ASYNC t_doc ON t (doc);"
    assert lint_sql(sql) == []


BAD_SAMPLES = {
    "foreign key": "CREATE TABLE t (id UUID PRIMARY KEY, o UUID, FOREIGN KEY (o) REFERENCES other (id));" + GRANTS,
    "inline references": "CREATE TABLE t (id UUID PRIMARY KEY, o UUID REFERENCES other (id));" + GRANTS,
    "serial": "CREATE TABLE t (id SERIAL PRIMARY KEY);" + GRANTS,
    "bigserial": "CREATE TABLE t (id BIGSERIAL PRIMARY KEY);" + GRANTS,
    "trigger": "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();",
    "truncate": "TRUNCATE t;",
    "temporary table": "CREATE TEMPORARY TABLE t (id UUID);" + GRANTS,
    "temp table": "CREATE TEMP TABLE t (id UUID);" + GRANTS,
    "json column": "CREATE TABLE t (id UUID PRIMARY KEY, doc JSON);" + GRANTS,
    "jsonb column": "CREATE TABLE t (id UUID PRIMARY KEY, doc JSONB);" + GRANTS,
    "non-async index": "CREATE INDEX t_doc ON t (doc);",
    "non-async unique index": "CREATE UNIQUE INDEX t_doc ON t (doc);",
    "two ddl in one transaction": "BEGIN; CREATE TABLE t (id UUID PRIMARY KEY);" + GRANTS + "COMMIT;",
    "ddl and dml in one transaction": "BEGIN; ALTER TABLE t ADD COLUMN n TEXT; UPDATE t SET n = 'x'; COMMIT;",
    "table without grants": "CREATE TABLE t (id UUID PRIMARY KEY);",
    "table without writer grant": "CREATE TABLE t (id UUID PRIMARY KEY); GRANT SELECT ON t TO da_reader;",
    "table without reader grant": "CREATE TABLE t (id UUID PRIMARY KEY); GRANT SELECT ON t TO da_writer;",
    "extension": "CREATE EXTENSION pgcrypto;",
    "savepoint": "SAVEPOINT s1;",
    "default privileges": "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO da_reader;",
    "sequence without cache": "CREATE SEQUENCE order_numbers;",
    "unterminated transaction": "BEGIN; CREATE TABLE t (id UUID PRIMARY KEY);" + GRANTS,
}


@pytest.mark.parametrize("name", sorted(BAD_SAMPLES))
def test_each_forbidden_construct_is_caught(name: str) -> None:
    assert lint_sql(BAD_SAMPLES[name]), f"lint accepted: {name}"


def test_comments_and_column_names_do_not_trip_the_lint() -> None:
    sql = (
        "-- JSON lives in TEXT; a FOREIGN KEY is not allowed\n"
        "CREATE TABLE t (id UUID PRIMARY KEY, tags_json TEXT);" + GRANTS
    )
    assert lint_sql(sql) == []


def test_problem_names_the_statement() -> None:
    [problem] = lint_sql("CREATE TABLE t (id UUID PRIMARY KEY, doc JSONB);" + GRANTS)
    assert "statement 1" in problem and "JSON" in problem
