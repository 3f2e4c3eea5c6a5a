"""`make local`'s lifecycle: the stack stops on SIGINT and SIGTERM even when started with
SIGINT ignored (a shell's background job), and a stack killed outright (SIGKILL) leaves
none of its processes behind. The emulator's request log stays off the console."""

from __future__ import annotations

import contextlib
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from local.pg import drop_database, ensure_database
from tests.servers import wait_for
from tests.test_local_stack import alive, fetch, kill_group, run_stack, stop

pytestmark = pytest.mark.e2e

# What the stack starts: each must be among its children, and each must go.
CHILDREN = {
    "AWS emulator": "moto_server",
    "event runner": "local.event_runner",
    "API": "chalice",
    "gateway": "local.gateway",
}


@pytest.fixture()
def database(pg_cluster: str) -> Iterator[str]:
    name = f"da_life_{uuid.uuid4().hex[:8]}"
    url = ensure_database(pg_cluster, name)
    try:
        yield url
    finally:
        drop_database(pg_cluster, name)


def children_of(pid: int) -> dict[str, int]:
    """The stack's children by role (each role exactly once)."""
    found: dict[str, int] = {}
    for child in psutil.Process(pid).children(recursive=True):
        command = " ".join(child.cmdline())
        for role, marker in CHILDREN.items():
            if marker in command:
                assert role not in found, f"two {role} processes: {command}"
                found[role] = child.pid
    assert set(found) == set(CHILDREN), f"children found: {found}"
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_a_killed_stack_leaves_no_process_behind(database: str, tmp_path: Path) -> None:
    proc, port = run_stack(database, tmp_path / "stack.log")
    pids: list[int] = []
    try:
        children = children_of(proc.pid)
        pids = list(children.values())
        assert fetch(f"http://127.0.0.1:{port}/api/bar")[0] == 200
        proc.kill()  # SIGKILL: no handler runs, nothing is stopped in order
        proc.wait(timeout=10)
        try:
            wait_for(lambda: alive(pids) == [], "the killed stack's children to exit", 30)
        except TimeoutError:
            left = {role: pid for role, pid in children.items() if pid in alive(pids)}
            raise AssertionError(f"still running after the stack was killed: {left}") from None
    finally:
        kill_group(proc)  # the children share its process group, even with the stack gone
        for pid in alive(pids):
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stack_started_with_sigint_ignored_still_stops(database: str, tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "stack.log"
    proc, port = run_stack(database, log, sigint_ignored=True)
    ignored = psutil.Process(proc.pid)
    assert ignored.status() != psutil.STATUS_ZOMBIE
    children = list(children_of(proc.pid).values())
    stopped = stop(proc, sig)  # asserts exit code 0; kills the process group afterwards in any case
    assert sorted(stopped) == sorted(children)
    assert alive(children) == [], "every child stopped with the stack"
    console = log.read_text(errors="replace")
    assert "stopping" in console
    # The emulator's per-request access log went to its file, not the console.
    emulator_log = tmp_path / "logs" / "emulator.log"
    assert "emulator.log" in console
    assert "/moto-api/" in emulator_log.read_text(errors="replace")
    assert "/moto-api/" not in console
