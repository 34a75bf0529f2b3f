"""Time from ``python app.py`` to the login page answering, with the store already there."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seconds_to_login(data_dir: Path, timeout: float = 60.0) -> float:
    """Start the app on a copy of ``data_dir`` (store and operational store, as after a restart)."""
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "data"
        shutil.copytree(data_dir, run_dir, ignore=shutil.ignore_patterns("*.lock"))
        port = free_port()
        env = {**os.environ, "DATA_DIR": str(run_dir), "HOST": "127.0.0.1", "PORT": str(port)}
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "app.py"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while time.perf_counter() - started < timeout:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                        if response.status == 200:
                            return round(time.perf_counter() - started, 2)
                except OSError:
                    time.sleep(0.02)
            raise RuntimeError(f"the login page did not answer within {timeout:g} s")
        finally:
            server.terminate()
            server.wait(timeout=30)
