"""gunicorn settings: `gunicorn -c gunicorn.conf.py app:server`.

No --preload: each worker opens the DuckDB store read-only on first use.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = 1
timeout = 60
control_socket_disable = True  # gunicorn 27 would otherwise make a socket in the home folder
accesslog = "-"


def on_starting(server):
    """The synthetic demo must not be served beyond this machine."""
    from commands.serve import is_loopback
    from queries.deaths_store import DeathsStore
    from queries.store import StoreUnavailable
    from settings import load_settings

    try:
        synthetic = DeathsStore(load_settings().store_path).facts().synthetic
    except StoreUnavailable:
        return
    hosts = [address.rsplit(":", 1)[0].strip("[]") for address in server.cfg.bind]
    if synthetic and not all(is_loopback(host) for host in hosts):
        raise SystemExit(f"the synthetic demo only listens on this machine, not on {', '.join(hosts)}")


def post_worker_init(worker):
    """The app is built: keep its start-up objects out of the collector's way."""
    from dashboard.runtime import tune_worker

    tune_worker()
