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
    from gunicorn.errors import HaltServer

    settings = load_settings()
    prepare_store(settings)
    bind = host or settings.host
    refused = refusal(settings, [bind])
    if refused:
        fail(refused)
    if dev:
        serve_dev(settings, bind, port or settings.port)
        return
    arbiter = os.getpid()
    try:
        Gunicorn(settings, bind, port or settings.port).run()
    except (SystemExit, HaltServer) as stopped:
        if os.getpid() != arbiter:  # a worker (forked from here) ending: gunicorn's exit status, untouched
            raise
        # The app refused to start in the workers after all (the store changed since the check
        # above): they have said why. gunicorn 27 raises HaltServer from its own shutdown when a
        # second worker fails so meanwhile; it has already told every worker to stop.
        code = stopped.exit_status if isinstance(stopped, HaltServer) else stopped.code
        sys.exit(2 if code == APP_REFUSED else code)


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


def refusal(settings: Settings, hosts: list[str]) -> str | None:
    """Why the app must not serve its store on ``hosts`` with these settings, or None: the app's
    own rules (``Settings.refusal``: SECRET_KEY, FIXED_TODAY), and the synthetic demo listens
    only on this machine. Checked before the web server starts (by ``run``, and by
    gunicorn.conf.py's on_starting for ``gunicorn -c``); the store is opened and closed again."""
    synthetic = store_is_synthetic(settings)
    refused = settings.refusal(synthetic=synthetic)
    beyond = [host for host in hosts if not is_loopback(host)]
    if refused or not (synthetic and beyond):
        return refused
    return (
        f"the synthetic demo only listens on this machine (127.0.0.1), not on {', '.join(map(repr, beyond))}; "
        "load real data and set SECRET_KEY to serve others"
    )


def store_is_synthetic(settings: Settings) -> bool:
    """Whether the store holds the synthetic demo (as the app decides demo mode: an unreadable store is not)."""
    from queries.deaths_store import DeathsStore
    from queries.store import StoreUnavailable

    store = DeathsStore(settings.store_path)
    try:
        return store.facts().synthetic
    except StoreUnavailable:
        return False
    finally:
        store.close()


class Gunicorn(BaseApplication):
    """gunicorn in this process: the settings and hooks of gunicorn.conf.py, bound to the
    address asked for; each worker builds the app for itself (nothing is opened before the fork)."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        self.settings = settings
        self.bind = bind_address(host, port)
        # The app's modules, imported once here rather than in every worker: a worker then only
        # builds the app (about 0.15 s, not 0.7 s), and the imported code's memory is shared.
        # Importing opens nothing: no store connection and no polars thread pool crosses the fork.
        import dashboard.app  # noqa: F401
        from dashboard.runtime import tune_worker

        # Frozen here, the imported objects reach the workers frozen: their own freeze (in
        # post_worker_init) then takes milliseconds, not 0.15 s, and their collector never
        # writes to, so never copies, the pages they share with this process.
        tune_worker()
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
        except SystemExit as refused:  # a one-line reason, said by the worker; gunicorn then stops
            raise AppImportError(f"error: {refused}") from None


def serve_dev(settings: Settings, host: str, port: int) -> None:
    """Flask's development server, restarted by its reloader whenever a source file changes."""
    import atexit

    from dashboard.app import create_app
    from dashboard.auth.headers import BannerlessRequestHandler

    dash_app = create_app(settings)
    # the reloader ends the server's process while its thread holds the store: close it first
    atexit.register(dash_app.server.extensions["cdop"].store.close)
    dash_app.run(
        host=host,
        port=port,
        debug=False,
        use_reloader=True,
        dev_tools_ui=False,
        dev_tools_hot_reload=False,
        request_handler=BannerlessRequestHandler,
    )


def bind_address(host: str, port: int) -> str:
    """``host:port`` as gunicorn's bind setting reads it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
