"""Take a screenshot of every page in a real browser, for the README.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshots/*.png

Starts the app on a free loopback port with a fresh synthetic store, signs in
as demo users and drives Debian's Chromium through Playwright.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

PROJECT = Path(__file__).resolve().parent.parent
OUT = PROJECT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = [
    # (file, user, path, what to wait for)
    ("overview", "ncl", "/?fy=2024", "#overview-trust .main-svg"),
    ("trusts", "ncl", "/trusts?fy=2024&trust=RAL", "#drill-chart .main-svg"),
    ("reviewing", "ncl", "/reviewing?fy=2024", "#review-matrix .main-svg"),
    ("trends", "ncl", "/trends?grain=quarter&split=place", "#trend-chart .main-svg"),
    ("cases", "ncl", "/cases?fy=2024", ".ag-row"),
    ("about", "ncl", "/about", "#about-facts p"),
    ("admin-overview", "admin", "/?fy=2024", "#overview-trust .main-svg"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app did not answer at {url}")


def sign_in(page: Page, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", "admin-demo" if user == "admin" else f"demo-{user}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "DATA_DIR": data_dir, "PORT": str(port)}
        server = subprocess.Popen(
            [sys.executable, "app.py"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_until_up(f"{base}/login")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pages: dict[str, Page] = {}
                login = browser.new_page(viewport={"width": 1280, "height": 900})
                login.goto(f"{base}/login")
                login.screenshot(path=OUT / "login.png", full_page=True)
                for name, user, path, ready in SHOTS:
                    if user not in pages:
                        pages[user] = browser.new_page(viewport={"width": 1280, "height": 900})
                        sign_in(pages[user], base, user)
                    page = pages[user]
                    page.goto(f"{base}{path}")
                    page.wait_for_selector(ready, timeout=30_000)
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(500)
                    page.screenshot(path=OUT / f"{name}.png", full_page=True)
                    print(f"wrote {OUT / name}.png")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
