"""`make local` end to end: the stack starts, serves the menu through one port, stops
every process on Ctrl-C, and a restart changes and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from local.pg import drop_database, ensure_database
from tests.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        return response.status, response.read()


def run_stack(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "API_PORT": str(free_port()),
        "EMULATOR_PORT": str(free_port()),
        "LOCAL_MEDIA_DIR": str(log.parent / "media"),
    }
    proc = subprocess.Popen(
        [sys.executable, "local/stack.py"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    wait_for(
        lambda: fetch(f"http://127.0.0.1:{port}/api/bar")[0] == 200,
        "the API behind the gateway",
        120,
        alive=lambda: proc.poll() is None,
    )
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> list[int]:
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    return children


def counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("sections", "drinks", "ingredients", "drink_ingredients", "schema_migrations")
        }


def test_make_local_serves_the_menu_and_restarts_cleanly(pg_cluster: str, tmp_path: Path) -> None:
    name = f"da_stack_{uuid.uuid4().hex[:8]}"
    url = ensure_database(pg_cluster, name)
    try:
        proc, port = run_stack(url, tmp_path / "first.log")
        try:
            status, body = fetch(f"http://127.0.0.1:{port}/api/drinks")
            assert status == 200 and len(json.loads(body)) >= 40
            status, page = fetch(f"http://127.0.0.1:{port}/")
            assert status == 200 and b"<html" in page.lower()
            status, config = fetch(f"http://127.0.0.1:{port}/config.json")
            assert json.loads(config)["apiUrl"] == "/api"
            refused = urllib.request.Request(f"http://127.0.0.1:{port}/api/admin/bar")
            try:
                urllib.request.urlopen(refused, timeout=5)  # noqa: S310 (loopback)
                raise AssertionError("an admin route answered without a token")
            except urllib.error.HTTPError as error:
                assert error.code == 401
                assert json.loads(error.read()) == {"Code": "UnauthorizedError", "Message": "Unauthorized"}
        finally:
            children = stop(proc)
        assert children, "the stack started child processes"
        assert not [pid for pid in children if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
        first = counts(url)

        proc, port = run_stack(url, tmp_path / "second.log")
        stop(proc)
        assert counts(url) == first
        assert "migrations applied: 0" in (tmp_path / "second.log").read_text()
    finally:
        drop_database(pg_cluster, name)
