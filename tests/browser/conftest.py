"""The browser suite: the real app on a free loopback port, driven in Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from bench.browser import CHROMIUM, CHROMIUM_ARGS  # one list of flags for the tests and the benchmark
from ingest.demo import build_demo_store
from settings import Settings, load_settings

PROJECT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT / "docs" / "screenshots"


def screenshot(page: Page, name: str, element: str | None = None) -> None:
    """Keep the README's screenshots current: UPDATE_SCREENSHOTS=1 pytest tests/browser. The whole
    page, or the one ``element`` (a CSS selector)."""
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if element:
            page.locator(element).screenshot(path=SCREENSHOTS / f"{name}.png")
        else:
            page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@dataclass
class LiveApp:
    base: str
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(settings: Settings, **env_extra: str) -> Iterator[LiveApp]:
    """`python app.py` on the store in ``settings``, on a free loopback port, until the block ends
    (``env_extra``: more settings, e.g. the demo's FIXED_TODAY)."""
    port = _free_port()
    env = {**os.environ, "DATA_DIR": str(settings.data_dir), "PORT": str(port), "HOST": "127.0.0.1", **env_extra}
    log_path = settings.data_dir / f"server-{port}.log"  # two apps may serve one store
    log = log_path.open("w")  # a file, not a pipe: a full pipe would stall the server
    server = subprocess.Popen(
        [sys.executable, "app.py"], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"the app did not start: {log_path.read_text()[-2000:]}") from None
            time.sleep(0.3)
    try:
        yield LiveApp(base=base, settings=settings)
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """`python app.py` on its own synthetic store, as a person would start it."""
    settings = load_settings({"DATA_DIR": str(tmp_path_factory.mktemp("browser-store"))})
    build_demo_store(settings, seed=7, scale=0.3, progress=False)
    with serve(settings) as app:
        yield app


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's Chromium is missing: scripts/test.sh installs it"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Session:
    page: Page
    base: str
    console_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # 429s: normal browsing must never meet a rate limit
    in_flight: int = 0
    last_activity: float = field(default_factory=time.monotonic)

    def track(self, delta: int) -> None:
        self.in_flight += delta
        self.last_activity = time.monotonic()

    def goto(self, path: str, ready: str | None = None) -> None:
        self.page.goto(f"{self.base}{path}")
        if ready:
            self.page.wait_for_selector(ready, timeout=30_000)
        self.settle()

    def settle(self, quiet: float = 0.4, limit: float = 20) -> None:
        """Wait until Dash has answered every callback: no callback request in
        flight and none started for ``quiet`` seconds (a chained callback starts
        just after the one before it ends)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(100)  # lets Playwright deliver request events
            if self.in_flight <= 0 and time.monotonic() - self.last_activity > quiet:
                return
        raise AssertionError(f"callbacks still running after {limit} s")

    def sign_in(self, username: str, password: str | None = None) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password or ("admin-demo" if username == "admin" else f"demo-{username}"))
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("#overview-headline .tile-value", timeout=30_000)
        self.settle()


@pytest.fixture
def session(browser: Browser, live: LiveApp) -> Iterator[Session]:
    with browsing(browser, live) as current:
        yield current


@contextmanager
def browsing(browser: Browser, app: LiveApp) -> Iterator[Session]:
    """A fresh browser context (no cookies) on ``app``, watching the console and Dash's callbacks."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    current = Session(page=page, base=app.base)
    page.on("console", lambda message: _note(current, message))
    page.on("pageerror", lambda error: current.console_errors.append(f"page error: {error}"))
    is_callback = "/_dash-update-component"
    page.on("request", lambda request: current.track(1) if is_callback in request.url else None)
    page.on("requestfinished", lambda request: current.track(-1) if is_callback in request.url else None)
    page.on("requestfailed", lambda request: current.track(-1) if is_callback in request.url else None)
    page.on("response", lambda response: current.refused.append(response.url) if response.status == 429 else None)
    try:
        yield current
    finally:
        context.close()
    assert current.refused == [], f"normal browsing was rate limited: {current.refused}"


def _note(session: Session, message: ConsoleMessage) -> None:
    if message.type == "error":
        session.console_errors.append(message.text)
