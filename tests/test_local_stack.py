"""`make local` end to end: the stack starts, serves the menu through one port, stops
every process on Ctrl-C, and a restart changes and duplicates nothing."""

from __future__ import annotations

import contextlib
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


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_stack(
    database_url: str, log: Path, *, sigint_ignored: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    """`make local` on free ports, as the leader of its own process group (the stack's
    children share it: `kill_group` ends all of it). With `sigint_ignored`, started as a
    shell's background job would start it."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "API_PORT": str(free_port()),
        "EMULATOR_PORT": str(free_port()),
        "LOCAL_MEDIA_DIR": str(log.parent / "media"),
        "LOCAL_LOG_DIR": str(log.parent / "logs"),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "local/stack.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_ignore_sigint if sigint_ignored else None,
        )
    try:
        wait_for(
            lambda: fetch(f"http://127.0.0.1:{port}/api/bar")[0] == 200,
            "the API behind the gateway",
            120,
            alive=lambda: proc.poll() is None,
        )
    except BaseException:
        kill_group(proc)
        raise
    return proc, port


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the stack's whole process group and reap the stack: nothing outlives a test."""
    with contextlib.suppress(ProcessLookupError):  # already gone, children included
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def stop(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGINT) -> list[int]:
    """Stop the stack as Ctrl-C does (or with `sig`); its children's pids. The process
    group is killed afterwards in any case, so a failed stop leaves nothing running."""
    try:
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0
        return children
    finally:
        kill_group(proc)


def alive(pids: list[int]) -> list[int]:
    """The pids that still run (a zombie has stopped; its new parent may never reap it)."""
    running = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.append(pid)
        except psutil.NoSuchProcess:
            pass
    return running


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
        assert alive(children) == []
        first = counts(url)

        proc, port = run_stack(url, tmp_path / "second.log")
        stop(proc)
        assert counts(url) == first
        assert "migrations applied: 0" in (tmp_path / "second.log").read_text()
    finally:
        drop_database(pg_cluster, name)
