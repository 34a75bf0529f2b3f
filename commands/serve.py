"""`run`: serve the dashboard (building a synthetic demo store on first run)."""

from __future__ import annotations

import ipaddress

import click

from commands.common import fail
from commands.data import build_demo
from settings import load_settings


@click.command()
@click.option("--host", default=None, help="address to listen on (default: HOST or 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port to listen on (default: PORT or 8050)")
def run(host: str | None, port: int | None) -> None:
    """Serve the dashboard, building a synthetic demo store if there is none."""
    from queries.admin import outdated_demo

    settings = load_settings()
    if not settings.store_path.exists():
        click.echo(
            f"No deaths store at {settings.store_path}: building a demo store of SYNTHETIC deaths "
            "(not real children; load a real extract with `python app.py load PATH`).",
            err=True,
        )
        build_demo(settings, seed=None, scale=1.0, replace=False)
    elif outdated_demo(settings.store_path):
        click.echo("The demo store was built by an older version of this app: building it again.", err=True)
        build_demo(settings, seed=None, scale=1.0, replace=False)
    from dashboard.app import create_app
    from dashboard.auth import demo_mode

    dash_app = create_app(settings)
    bind = host or settings.host
    if demo_mode(dash_app.server.extensions["cdop"]) and not is_loopback(bind):
        fail(
            f"the synthetic demo only listens on this machine (127.0.0.1), not on {bind!r}; "
            "load real data and set SECRET_KEY to serve others"
        )
    from dashboard.auth.headers import BannerlessRequestHandler
    from dashboard.runtime import tune_worker

    tune_worker()
    dash_app.run(
        host=bind,
        port=port or settings.port,
        debug=False,
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
