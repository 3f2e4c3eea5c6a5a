"""The seed menu: what it holds, and that loading it is idempotent and batched."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sql.seed import BATCH_ROWS, SEED_FILE, batches, build_rows, seed

MENU = json.loads(SEED_FILE.read_text(encoding="utf-8"))


def test_the_menu_is_big_enough_and_structured() -> None:
    assert len(MENU["drinks"]) >= 40
    sections = {d["section"] for d in MENU["drinks"]}
    assert len(sections) >= 5
    for drink in MENU["drinks"]:
        assert drink["description"] and drink["glass"] and drink["garnish"], drink["name"]
        assert drink["recipe_steps"] and drink["tags"], drink["name"]
        assert isinstance(drink["abv"], int | float), drink["name"]
        for item in drink["ingredients"]:
            assert set(item) == {"name", "amount", "unit", "optional"}, drink["name"]


def test_every_ingredient_is_in_the_catalog() -> None:
    catalog = {i["name"].lower() for i in MENU["ingredients"]}
    used = {item["name"].lower() for d in MENU["drinks"] for item in d["ingredients"]}
    assert used <= catalog


def test_build_rows_refuses_an_unknown_ingredient() -> None:
    broken = json.loads(json.dumps(MENU))
    broken["drinks"][0]["ingredients"].append({"name": "Unobtainium", "amount": 1, "unit": "ml", "optional": False})
    with pytest.raises(ValueError, match="Unobtainium"):
        build_rows(broken)


def test_batches_stay_under_the_dsql_row_limit() -> None:
    assert BATCH_ROWS <= 3000
    rows = list(range(1234))
    chunks = list(batches(rows, 500))
    assert [len(c) for c in chunks] == [500, 500, 234]
    assert [x for c in chunks for x in c] == rows


def _counts(conn: Any) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]
        for table in ("sections", "ingredients", "drinks", "drink_ingredients")
    }


def test_reseeding_changes_nothing(db: Any, admin_conn: Any) -> None:
    before = _counts(admin_conn)
    drink = admin_conn.execute("SELECT id, updated_at FROM drinks WHERE name = 'Negroni'").fetchone()
    inserted = seed(db.write)
    assert inserted == {"sections": 0, "ingredients": 0, "ingredient_traits": 0, "drinks": 0, "drink_ingredients": 0}
    assert _counts(admin_conn) == before
    again = admin_conn.execute("SELECT id, updated_at FROM drinks WHERE name = 'Negroni'").fetchone()
    assert again == drink


def test_seed_loaded_the_whole_menu(admin_conn: Any) -> None:
    counts = _counts(admin_conn)
    assert counts["drinks"] >= len(MENU["drinks"])
    assert counts["drink_ingredients"] >= sum(len(d["ingredients"]) for d in MENU["drinks"])


def test_seed_writes_in_transactions_of_bounded_size() -> None:
    calls: list[int] = []

    def fake_write(fn: Any, table: str, batch: Any) -> int:
        calls.append(len(batch))
        return len(batch)

    inserted = seed(fake_write, MENU)
    assert max(calls) <= BATCH_ROWS
    assert inserted["drinks"] == len(MENU["drinks"])
