"""`python app.py` as a person starts it: gunicorn by default, Flask's development server with
``--dev``, the same refusals in both, and a prompt stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from dashboard.auth.headers import SERVER_BANNER
from ingest.demo import build_demo_store
from ingest.loader import load_file
from settings import WEB_THREADS, cores, load_settings
from tests.extract_rows import many, write_csv

PROJECT = Path(__file__).resolve().parents[2]
DEV_WARNING = "development server"  # Werkzeug's "WARNING: This is a development server. Do not use it in production"
STOP_SECONDS = 15  # what the browser tests give a server to stop


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "WEB_WORKERS", "WEB_THREADS", "FIXED_TODAY")}
    return {**env, "DATA_DIR": str(data_dir), "HOST": "127.0.0.1", **extra}


@contextmanager
def serving(data_dir: Path, *args: str, **env: str) -> Iterator[Served]:
    """``python app.py ARGS`` on a free loopback port until it answers /login; stopped (and its
    process group killed, should SIGTERM not do) when the block ends."""
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py", *args],
            cwd=PROJECT,
            env=app_env(data_dir, PORT=str(port), **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a failed test can kill the workers too
        )
    served = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{served.base}/login", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"python app.py did not start:\n{served.text()[-3000:]}") from None
                time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def stop(served: Served) -> float:
    """SIGTERM, as the browser tests stop the app: the seconds it took, every child gone too."""
    children = served.children()
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=STOP_SECONDS) == 0, served.text()[-2000:]
    took = time.monotonic() - started
    time.sleep(0.2)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "a child outlived the server"
    return took


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def raw_request(base: str, request: bytes) -> bytes:
    """What the server answers to bytes that are not a proper request (its own error page)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = load_settings({"DATA_DIR": str(tmp_path_factory.mktemp("serve") / "demo")})
    build_demo_store(settings, scale=0.02, progress=False)
    return settings.data_dir


def test_python_app_py_builds_the_demo_then_serves_it_with_gunicorn(tmp_path: Path) -> None:
    """The README's first command on a fresh checkout: no store yet, so it builds the demo (in a
    process of its own: polars' thread pool must not be forked into the workers), then serves
    with gunicorn's threaded workers. A signed-in user's page and download (polars and DuckDB
    in a forked worker) are answered; the Server header names no product; SIGTERM stops it all."""
    from bench.dash_request import callback_body
    from scripts.loadtest import User

    data = tmp_path / "instance"
    with serving(data, WEB_WORKERS="2", WEB_THREADS="3") as served:
        status, headers, page = get(f"{served.base}/login")
        assert status == 200 and b"csrf_token" in page
        assert headers["Server"] == SERVER_BANNER
        garbled = raw_request(served.base, b"NOT A REQUEST\r\n\r\n")  # gunicorn's own 400 page
        assert garbled.startswith(b"HTTP/1.1 400") and b"gunicorn" not in garbled.lower()

        user = User(served.base, "llr", "demo-llr")
        user.sign_in()
        dependencies = json.loads(user.request("/_dash-dependencies")[1])
        overview = next(d for d in dependencies if "overview-trust.figure" in d["output"])
        answered, _ = user.request(
            "/_dash-update-component", body=callback_body(overview, {"url.search": "?fy=2023"}, "url.search")
        )
        assert answered == 200
        downloaded, csv = user.request("/download/headline.csv")
        assert downloaded == 200 and csv.count(b"\n") > 1

        assert len(served.children()) == 2  # the workers, forked by gunicorn's arbiter
        log = served.text()
        assert "building a demo store of SYNTHETIC deaths" in log
        assert "Starting gunicorn" in log and "Using worker: gthread" in log
        assert DEV_WARNING not in log.lower() and "werkzeug" not in log.lower()
        assert stop(served) < 12
    assert "Traceback" not in served.text() and "nanobind" not in served.text()  # DuckDB's leak report at exit


def test_dev_serves_with_werkzeug_and_its_reloader(small_demo: Path) -> None:
    with serving(small_demo, "--dev") as served:
        status, headers, _ = get(f"{served.base}/login")
        assert status == 200 and headers["Server"] == SERVER_BANNER
        log = served.text()
        assert "Restarting with" in log  # Werkzeug's reloader runs the server in a child it restarts
        assert DEV_WARNING in log.lower() and "gunicorn" not in log.lower()
        stop(served)


def test_port_and_host_options_without_a_command(small_demo: Path) -> None:
    """``python app.py --port N`` serves as ``python app.py run --port N`` does."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT,
        env=app_env(small_demo, PORT=str(free_port()), WEB_WORKERS="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert get(f"http://127.0.0.1:{port}/login")[0] == 200
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        process.terminate()
        assert process.wait(timeout=STOP_SECONDS) == 0


@pytest.mark.parametrize(
    "args", [["--host", "0.0.0.0"], ["--dev", "--host", "0.0.0.0"], ["run", "--dev", "--host", "0.0.0.0"]]
)
def test_the_demo_is_refused_beyond_loopback_in_both_modes(small_demo: Path, args: list[str]) -> None:
    refused = subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=PROJECT,
        env=app_env(small_demo, PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2 and "only listens on this machine" in refused.stderr
    assert "Traceback" not in refused.stderr and "Starting gunicorn" not in refused.stderr


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve-real")
    settings = load_settings({"DATA_DIR": str(folder / "real")})
    load_file(write_csv(folder / "real.csv", many(3)), settings, progress=False)
    return settings.data_dir


def test_real_data_without_a_secret_key_is_refused_before_gunicorn_starts(real_store: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT,
        env=app_env(real_store, PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: SECRET_KEY must be set"), refused.stderr


def test_the_app_s_refusals_stop_gunicorn_whichever_way_it_starts(
    real_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gunicorn -c gunicorn.conf.py` refuses in its on_starting hook, before any worker; and a
    worker whose app refuses after all (the store changed since) stops gunicorn (its "app failed
    to load") rather than being started again and again."""
    import runpy

    from gunicorn.errors import AppImportError

    from commands.serve import GUNICORN_CONF, Gunicorn

    monkeypatch.setenv("DATA_DIR", str(real_store))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    conf = runpy.run_path(str(GUNICORN_CONF))
    with pytest.raises(SystemExit, match="SECRET_KEY must be set"):
        conf["on_starting"](SimpleNamespace(cfg=SimpleNamespace(bind=["127.0.0.1:8050"])))
    with pytest.raises(AppImportError, match="SECRET_KEY must be set"):
        Gunicorn(load_settings(), "127.0.0.1", 8050).load()


def test_serving_options_before_another_command_are_refused(tmp_path: Path) -> None:
    misplaced = subprocess.run(
        [sys.executable, "app.py", "--dev", "users", "list"],
        cwd=PROJECT,
        env=app_env(tmp_path / "instance"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert misplaced.returncode == 2 and "--dev serve the dashboard" in misplaced.stderr


def test_workers_and_threads_default_to_the_machine_and_can_be_set() -> None:
    default = load_settings({})
    assert default.web_workers == cores() + 1 and default.web_threads == WEB_THREADS
    chosen = load_settings({"WEB_WORKERS": "2", "WEB_THREADS": "8"})
    assert (chosen.web_workers, chosen.web_threads) == (2, 8)
    with pytest.raises(SystemExit, match="WEB_WORKERS must be at least 1"):
        load_settings({"WEB_WORKERS": "0"})


def test_python_app_py_uses_gunicorn_conf_py(small_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One source of gunicorn settings: the in-process server reads gunicorn.conf.py, with its
    hooks, and only the address comes from the command line."""
    from commands.serve import Gunicorn

    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("WEB_THREADS", "5")
    server = Gunicorn(load_settings({"DATA_DIR": str(small_demo)}), "::1", 8123)
    cfg = server.cfg
    assert (cfg.workers, cfg.threads, cfg.worker_class_str) == (3, 5, "gthread")
    assert cfg.bind == ["[::1]:8123"] and cfg.control_socket_disable is True
    assert cfg.graceful_timeout < STOP_SECONDS
    assert cfg.on_starting.__module__ == cfg.post_worker_init.__module__  # gunicorn.conf.py's own hooks
    assert cfg.on_starting.__doc__ and "demo" in cfg.on_starting.__doc__
