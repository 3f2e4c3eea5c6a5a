"""End-to-end fixtures: the real local stack (`local/stack.py`) and Debian's Chromium.

The stack runs as `make local` runs it, on free ports, against a fresh database in the
embedded test cluster (dropped afterwards). Each page fails its test on any console
error or uncaught page error, and leaves screenshots in artifacts/e2e/.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.pg import LOCAL_DIR, drop_database, ensure_database, start_embedded
from tests.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
STACK_START_TIMEOUT_S = 120


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, e2e tests are skipped on a laptop but fail in CI."""
    if CHROMIUM.exists() or os.environ.get("CI", "").lower() == "true":
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: run `make e2e-deps` (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (loopback only)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class Stack:
    base_url: str
    database_url: str
    log_path: Path


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        pytest.fail("frontend/dist is missing: run `make frontend` first (make test does)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # this run's pictures only
        old.unlink()
    cluster = os.environ.get("TEST_DATABASE_URL") or start_embedded(LOCAL_DIR / "test-pg")
    name = f"da_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    database_url = ensure_database(cluster, name)
    port, api_port, emulator_port = free_port(), free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "API_PORT": str(api_port),
        "EMULATOR_PORT": str(emulator_port),
        "DATABASE_URL": database_url,
        "JOIN_BASE_URL": base_url,
        "PYTHONUNBUFFERED": "1",
        # Test photos stay out of the developer's .local/media.
        "LOCAL_MEDIA_DIR": tempfile.mkdtemp(prefix="da-e2e-media-"),
        # The emulator's request log, next to stack.log.
        "LOCAL_LOG_DIR": str(ARTIFACTS / "logs"),
    }
    log_path = ARTIFACTS / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "local" / "stack.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(
                lambda: http_status(f"{base_url}/api/bar") == 200 and http_status(f"{base_url}/config.json") == 200,
                "the local stack",
                STACK_START_TIMEOUT_S,
                alive=lambda: process.poll() is None,
            )
            yield Stack(base_url=base_url, database_url=database_url, log_path=log_path)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}; see {log_path}:\n{log_path.read_text(errors='replace')[-3000:]}")
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # stack.py stops its children on Ctrl-C
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=30)
            # Pass or fail: the stack's whole process group (its children share it) goes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            drop_database(cluster, name)


@pytest.fixture(scope="session")
def admin_api(stack: Stack) -> Any:
    """The admin API of the stack, with a token from its own hosted login."""
    from local.realtime_client import Api, admin_token

    port = int(stack.base_url.rsplit(":", 1)[1])
    return Api(stack.base_url, admin_token(port))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class PageSession:
    """A browser page plus what it logged; `shot()` saves a screenshot artifact."""

    page: Any
    name: str
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    shots: int = 0

    def allow_console_error(self, pattern: str) -> None:
        """An error the test provokes on purpose (a 409 the browser logs, say)."""
        self.allowed.append(re.compile(pattern))

    def shot(self, label: str, *, full_page: bool = False) -> Path:
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"
        # Finished animations: the picture shows where the page settles, not a frame of a fade.
        self.page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


def _artifact_name(request: pytest.FixtureRequest, variant: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{variant}")


@pytest.fixture()
def open_page(stack: Stack, browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., PageSession]]:
    """Open a page at a viewport ("phone" 360x740 or "desktop" 1280x800)."""
    sessions: list[tuple[Any, PageSession]] = []

    def make(variant: str = "phone") -> PageSession:
        context = browser.new_context(
            viewport=VIEWPORTS[variant],
            base_url=stack.base_url,
            device_scale_factor=1,
            is_mobile=variant == "phone",
            has_touch=variant == "phone",
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        session = PageSession(page=page, name=_artifact_name(request, variant))
        page.on("console", lambda msg: session.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: session.errors.append(f"pageerror: {exc}"))
        sessions.append((context, session))
        return session

    yield make
    problems: list[str] = []
    for context, session in sessions:
        try:
            session.shot("final")
        except Exception as exc:  # noqa: BLE001 (a closed page still lets us report its errors)
            problems.append(f"{session.name}: final screenshot failed: {exc}")
        problems += [f"{session.name}: {e}" for e in session.unexpected_errors()]
        context.close()
    if problems:
        pytest.fail("errors in the browser:\n" + "\n".join(problems))


@pytest.fixture()
def phone(open_page: Callable[..., PageSession]) -> PageSession:
    return open_page("phone")


@pytest.fixture()
def desktop(open_page: Callable[..., PageSession]) -> PageSession:
    return open_page("desktop")
