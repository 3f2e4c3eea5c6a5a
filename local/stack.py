"""`make local`: the whole product on one laptop, no AWS account.

Starts the embedded PostgreSQL (unless DATABASE_URL is set), migrates and seeds,
starts the AWS emulator (moto server), `chalice local --stage local`, and the gateway
on one port; prints the URLs; Ctrl-C stops every process it started. Data lives
under .local/ and survives a restart.

Lifecycle: SIGINT (Ctrl-C) and SIGTERM stop the stack and every child, exit code 0, even
when it was started with SIGINT ignored (a shell's background job, some service managers).
The children share the stack's process group (`kill -- -PGID` stops all of it) and ignore
SIGINT (the stack stops them itself, in order). On Linux each child also gets SIGTERM
when the stack dies (PR_SET_PDEATHSIG), so a stack killed with SIGKILL leaves nothing
behind. The emulator's per-request log goes to .local/logs/emulator.log, not the console.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import event_runner, hosted_login, storage  # noqa: E402
from local.pg import LOCAL_DIR, ensure_database, start_embedded  # noqa: E402

# Copies of uploaded photos (the emulator keeps objects only in memory).
LOCAL_MEDIA_DIR = Path(os.environ.get("LOCAL_MEDIA_DIR") or LOCAL_DIR / "media").resolve()

# Logs of the children that would flood the console (the emulator logs every request).
LOG_DIR = Path(os.environ.get("LOCAL_LOG_DIR") or LOCAL_DIR / "logs").resolve()

PORT = int(os.environ.get("PORT", "8000"))
API_PORT = int(os.environ.get("API_PORT", "8001"))
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "5001"))
BIN = Path(sys.executable).parent
# The local sign-in's issuer: a fixed identifier (phones reach the gateway by another address).
AUTH_ISSUER = f"http://127.0.0.1:{PORT}"


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Loaded before any fork: the child only calls it (preexec_fn must not import or allocate much).
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def child_setup(parent_pid: int) -> Callable[[], None]:
    """Runs in each child between fork and exec."""

    def setup() -> None:
        # Ctrl-C in a terminal signals the whole process group; the stack stops its
        # children itself (SIGTERM, in order), so they ignore SIGINT.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if _LIBC is not None:
            # SIGTERM when the stack dies, even by SIGKILL; kept across exec.
            _LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
            if os.getppid() != parent_pid:  # the stack died before prctl took effect
                os._exit(1)

    return setup


def stop_on_signals() -> None:
    """SIGINT and SIGTERM stop the stack, installed explicitly: a process started with
    SIGINT ignored (`make local &`) would otherwise never see Ctrl-C's KeyboardInterrupt."""

    def handler(signum: int, _frame: Any) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):  # once: the stop itself is not interrupted
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (for phones on the network)."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if not address.startswith("127."):
                found.add(address)
    except OSError:
        pass
    return sorted(found)


def wait_until(check: object, what: str, timeout_s: float = 60.0) -> None:
    """Poll `check()` until it is true (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
        return 200 <= response.status < 500


def prepare_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        admin = start_embedded(LOCAL_DIR / "pg", keep_running=False)
        url = ensure_database(admin, "drink_assistant")
    os.environ["DATABASE_URL"] = url
    from chalicelib.db import database
    from sql.migrate import admin_connection, migrate
    from sql.seed import seed

    conn, dsql = admin_connection()
    with conn:
        applied = migrate(conn, dsql=dsql)
    print(f"  migrations applied: {len(applied)}")
    inserted = seed(database().write)
    database().close()
    print("  seed: " + ", ".join(f"{t} +{n}" for t, n in inserted.items()))
    return url


def draw_illustrations(endpoint_url: str) -> int:
    """Draw every drink's illustration into the emulator's media bucket (docs/pictures.md)."""
    import boto3

    from chalicelib import images
    from chalicelib.db import database

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        # The emulator takes any key; the stack process itself may have none configured.
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    try:
        return images.ensure_illustrations(s3, storage.local_stage_bucket())
    finally:
        database().close()


def main() -> int:
    stop_on_signals()
    try:
        return run()
    except KeyboardInterrupt:
        print("\nstopped")
        return 0


def run() -> int:
    print("drink-assistant: starting the local stack")
    database_url = prepare_database()
    admin_password = hosted_login.ensure_state(LOCAL_DIR / "auth")  # first run only, else None
    env = {
        **os.environ,
        "LOCAL_MEDIA_DIR": str(LOCAL_MEDIA_DIR),
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{EMULATOR_PORT}",
        # Invite QR codes must open on guests' phones: the LAN address, not localhost.
        "JOIN_BASE_URL": os.environ.get("JOIN_BASE_URL") or f"http://{(lan_addresses() or ['localhost'])[0]}:{PORT}",
        "AWS_ACCESS_KEY_ID": "local",
        # Random per run: the gateway checks realtime publishes against this key (SigV4),
        # so nobody else on the network can publish; the emulator accepts any key.
        "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(32),
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONUNBUFFERED": "1",
        "AUTH_ISSUER": AUTH_ISSUER,
        "AUTH_CLIENT_ID": hosted_login.DEFAULT_CLIENT_ID,
        "AUTH_JWKS_URL": f"{AUTH_ISSUER}/.well-known/jwks.json",
        # The API publishes live order status to the gateway's AppSync Events stand-in.
        "REALTIME_HTTP_URL": f"http://127.0.0.1:{PORT}/event",
        "REALTIME_WS_URL": "/event/realtime",
    }
    children: list[subprocess.Popen[bytes]] = []

    def show_admin_password() -> None:
        # Once, below the URLs; or on the way out if the stack never got that far.
        nonlocal admin_password
        if admin_password:
            print(hosted_login.password_box("admin", admin_password, headline="admin sign-in (first run)") + "\n")
            admin_password = None

    names: dict[int, str] = {}
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    emulator_log = LOG_DIR / "emulator.log"

    def start(name: str, args: list[str], log: Path | None = None) -> None:
        print(f"  starting {name}" + (f" (log: {log})" if log else ""))
        out = log.open("ab") if log else None
        try:
            child = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=out, preexec_fn=child_setup(os.getpid())
            )
        finally:
            if out:
                out.close()  # the child has its own copy
        names[child.pid] = name
        children.append(child)

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"  {names.get(child.pid, child.pid)} did not stop in 10 s: killed")
                child.kill()
                child.wait()

    try:
        start(
            "AWS emulator (moto)",
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(EMULATOR_PORT)],
            log=emulator_log,
        )
        wait_until(lambda: http_ok(f"http://127.0.0.1:{EMULATOR_PORT}/moto-api/"), "the AWS emulator")
        # Bus, rules, queues and DLQs before the API can publish; then the runner that
        # feeds the queues to the app's event handlers (as Lambda does in AWS).
        event_runner.ensure_local_plumbing(env["AWS_ENDPOINT_URL"])
        # Photo uploads (local/storage.py); photos from earlier runs are put back.
        restored = storage.ensure_bucket(env["AWS_ENDPOINT_URL"], restore_from=LOCAL_MEDIA_DIR)
        if restored:
            print(f"  restored {restored} photos from {LOCAL_MEDIA_DIR}")
        # Every drink's offline illustration (the seed's drinks never had a DrinkCreated).
        print(f"  illustrations drawn: {draw_illustrations(env['AWS_ENDPOINT_URL'])}")
        start("event runner", [sys.executable, "-m", "local.event_runner"])
        start(
            "API (chalice local)",
            [
                str(BIN / "chalice"),
                "local",
                "--stage",
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(API_PORT),
                "--no-autoreload",
            ],
        )
        start(
            "gateway",
            [
                sys.executable,
                "-m",
                "local.gateway",
                "--port",
                str(PORT),
                "--api-upstream",
                f"http://127.0.0.1:{API_PORT}",
            ],
        )
        # The API itself first: polling through the gateway meanwhile would fill the console
        # with its "upstream unreachable" warnings.
        wait_until(lambda: http_ok(f"http://127.0.0.1:{API_PORT}/bar"), "the API (chalice local)")
        wait_until(lambda: http_ok(f"http://127.0.0.1:{PORT}/api/bar"), "the API behind the gateway")
        print("\ndrink-assistant is running:")
        print(f"  web app     http://localhost:{PORT}/")
        for address in lan_addresses():
            print(f"  on phones   http://{address}:{PORT}/")
        print(f"  API         http://localhost:{PORT}/api/drinks")
        print(f"  emulator    http://127.0.0.1:{EMULATOR_PORT}/ (its log: {emulator_log})")
        print("Ctrl-C (or SIGTERM) stops everything; data stays in .local/\n")
        show_admin_password()
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        gone = [f"{names[c.pid]} (exit code {c.returncode})" for c in children if c.poll() is not None]
        print(f"{', '.join(gone)} stopped on its own; stopping the stack (emulator log: {emulator_log})")
        return 1
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        stop()
        show_admin_password()


if __name__ == "__main__":
    sys.exit(main())
