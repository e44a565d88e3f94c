"""Browser tests: Debian's Chromium drives the app served by a real daphne process on the test database.

The test process creates data (committed: every test here uses ``transactional_db``); the server process reads
it as the application role, so row-level security applies to the browser exactly as in production.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, expect

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there unless told it is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 60

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not os.path.exists(CHROMIUM):
        pytest.exit(f"The browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium).", returncode=2)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The app server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"The app server did not answer within {SERVER_START_TIMEOUT}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def app_server(django_db_setup, tmp_path_factory) -> Iterator[str]:
    """Base URL of daphne serving the app against the test database that pytest-django created."""
    db = connections["default"].settings_dict
    database_url = (
        f"postgres://{settings.DATABASE_APP_ROLE}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    workdir = tmp_path_factory.mktemp("app-server")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.e2e.server_settings",
        "DATABASE_URL": database_url,
        "DATABASE_APP_ROLE": settings.DATABASE_APP_ROLE,
        # No persistent connections: nothing of the server's may linger when the test database is dropped.
        "DB_CONN_MAX_AGE": "0",
        "SECRET_KEY": "browser-tests",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HELPDESK_E2E_STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
                   cwd=REPO, env=env, check=True)
    port = _free_port()
    log = workdir / "server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port),
             "helpdesk.asgi:application"],
            cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base_url}/login/", process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def live_url(app_server, transactional_db) -> Callable[[str], str]:
    return lambda path="/": f"{app_server}{path}"


@pytest.fixture
def sign_in(live_url) -> Callable[[Page, str], Page]:
    """Sign in through the login form, as a person would."""

    def _sign_in(page: Page, email: str, password: str | None = None) -> Page:
        from tests.factories import PASSWORD

        page.goto(live_url("/login/"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password or PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("All tickets")
        return page

    return _sign_in


@pytest.fixture
def second_context(browser: Browser) -> Iterator[BrowserContext]:
    """Another person's browser, with its own cookies."""
    context = browser.new_context()
    yield context
    context.close()
