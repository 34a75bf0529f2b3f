"""`run`: serve the dashboard (building a synthetic demo store on first run).

It serves with gunicorn, run in this process with the project's ``gunicorn.conf.py`` (the
same workers, threads and hooks as ``gunicorn -c gunicorn.conf.py app:server``); ``--dev``
serves with Flask's development server and its reloader instead, for working on the code.
"""

from __future__ import annotations

import ipaddress
import os
import runpy
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from gunicorn.app.base import BaseApplication

from commands.common import fail
from settings import PROJECT_DIR, Settings, load_settings

GUNICORN_CONF = PROJECT_DIR / "gunicorn.conf.py"
APP_REFUSED = 4  # a worker's exit status when the app refuses to start (gunicorn's Arbiter.APP_LOAD_ERROR)

F = TypeVar("F", bound=Callable[..., Any])


def serve_options(command: F) -> F:
    """``--host``, ``--port`` and ``--dev``: the options of ``run``, and of ``python app.py`` alone."""
    for option in reversed(
        [
            click.option("--host", default=None, help="address to listen on (default: HOST or 127.0.0.1)"),
            click.option("--port", type=int, default=None, help="port to listen on (default: PORT or 8050)"),
            click.option(
                "--dev",
                is_flag=True,
                help="for working on the code: Flask's development server in one process, restarted "
                "whenever a source file changes (not for serving users)",
            ),
        ]
    ):
        command = option(command)
    return command


@click.command()
@serve_options
def run(host: str | None, port: int | None, dev: bool) -> None:
    """Serve the dashboard, building a synthetic demo store if there is none.

    It serves with gunicorn and the settings in gunicorn.conf.py: WEB_WORKERS worker processes
    (default: one more than the cores), each with WEB_THREADS threads (default 4).
    """
    settings = load_settings()
    prepare_store(settings)
    bind = host or settings.host
    refusal = demo_refusal(settings, [bind])
    if refusal:
        fail(refusal)
    if dev:
        serve_dev(settings, bind, port or settings.port)
        return
    arbiter = os.getpid()
    try:
        Gunicorn(settings, bind, port or settings.port).run()
    except SystemExit as stopped:
        if os.getpid() != arbiter:  # a worker (forked from here) ending: gunicorn's exit status, untouched
            raise
        # the app refused its settings (for example real data without SECRET_KEY): its
        # workers have said why; exit as the command line's other refusals do
        sys.exit(2 if stopped.code == APP_REFUSED else stopped.code)


def prepare_store(settings: Settings) -> None:
    """Build the synthetic demo store if there is no store, or again if an older version of the
    app built it, as ``python app.py demo`` does, and in a process of its own: the build starts
    polars' thread pool, and a gunicorn worker forked from a process holding that pool would wait
    forever on its first query."""
    from queries.admin import outdated_demo

    if not settings.store_path.exists():
        click.echo(
            f"No deaths store at {settings.store_path}: building a demo store of SYNTHETIC deaths "
            "(not real children; load a real extract with `python app.py load PATH`).",
            err=True,
        )
    elif outdated_demo(settings.store_path):
        click.echo("The demo store was built by an older version of this app: building it again.", err=True)
    else:
        return
    built = subprocess.run([sys.executable, str(PROJECT_DIR / "app.py"), "demo"], check=False)  # noqa: S603
    if built.returncode:
        sys.exit(built.returncode if built.returncode > 0 else 1)


def demo_refusal(settings: Settings, hosts: list[str]) -> str | None:
    """Why the store may not be served on ``hosts`` (the synthetic demo listens only on this
    machine), or None. The store is opened only for a host beyond loopback, and closed again."""
    from queries.report import data_facts
    from queries.store import StoreUnavailable, open_readonly

    beyond = [host for host in hosts if not is_loopback(host)]
    if not beyond:
        return None
    try:
        conn = open_readonly(settings.store_path)
    except StoreUnavailable:
        return None
    try:
        synthetic = bool(data_facts(conn)["synthetic"])
    except StoreUnavailable:
        return None
    finally:
        conn.close()
    if not synthetic:
        return None
    return (
        f"the synthetic demo only listens on this machine (127.0.0.1), not on {', '.join(map(repr, beyond))}; "
        "load real data and set SECRET_KEY to serve others"
    )


class Gunicorn(BaseApplication):
    """gunicorn in this process: the settings and hooks of gunicorn.conf.py, bound to the
    address asked for; each worker builds the app for itself (nothing is opened before the fork)."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        self.settings = settings
        self.bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        # The app's modules, imported once here rather than in every worker: a worker then only
        # builds the app (about 0.1 s, not 0.6 s), and the imported code's memory is shared.
        # Importing opens nothing: no store connection and no polars thread pool crosses the fork.
        import dashboard.app  # noqa: F401

        super().__init__()

    def load_config(self) -> None:
        for name, value in runpy.run_path(str(GUNICORN_CONF)).items():
            if name in self.cfg.settings and value is not None:  # as gunicorn reads a config file
                self.cfg.set(name, value)
        self.cfg.set("bind", [self.bind])

    def load(self) -> Any:
        from gunicorn.errors import AppImportError

        from dashboard.app import create_app

        try:
            return create_app(self.settings).server
        except SystemExit as refusal:  # a one-line reason: said once by the worker, and the server stops
            raise AppImportError(f"error: {refusal}") from None


def serve_dev(settings: Settings, host: str, port: int) -> None:
    """Flask's development server, restarted by its reloader whenever a source file changes."""
    from dashboard.app import create_app
    from dashboard.auth.headers import BannerlessRequestHandler
    from dashboard.runtime import tune_worker

    dash_app = create_app(settings)
    tune_worker()
    dash_app.run(
        host=host,
        port=port,
        debug=False,
        use_reloader=True,
        dev_tools_ui=False,
        dev_tools_hot_reload=False,
        request_handler=BannerlessRequestHandler,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
