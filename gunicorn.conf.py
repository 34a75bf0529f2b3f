"""gunicorn settings: `gunicorn -c gunicorn.conf.py app:server`, and `python app.py`, which
runs gunicorn in its own process with this file (commands/serve.py).

Workers: one more than the cores, each with a few threads (WEB_WORKERS, WEB_THREADS). The
processes use the cores (the app's Python holds the GIL while it builds a figure); the threads
are for waiting: a person on a slow link downloading a streamed CSV holds a thread, not a whole
worker. Each worker opens the DuckDB store read-only on first use (no --preload) and holds one
connection, shared by its threads (a cursor each), so memory grows with workers, hardly with threads.
"""

from commands.serve import bind_address
from settings import load_settings

_settings = load_settings()

bind = bind_address(_settings.host, _settings.port)
worker_class = "gthread"
workers = _settings.web_workers
threads = _settings.web_threads
timeout = 60
graceful_timeout = 10  # on SIGTERM, requests in flight get this long to finish
control_socket_disable = True  # gunicorn 27 would otherwise make a socket in the home folder
accesslog = "-"


def on_starting(server):
    """Refuse, before any worker starts, what the app would refuse in each of them (real data
    without SECRET_KEY, say), and the synthetic demo beyond this machine."""
    from commands.serve import refusal

    hosts = [address.rsplit(":", 1)[0].strip("[]") for address in server.cfg.bind]
    refused = refusal(load_settings(), hosts)
    if refused:
        raise SystemExit(refused)


def post_worker_init(worker):
    """The app is built, before the worker takes its first request: name no product in the Server
    header, and keep the app's start-up objects out of the collector's way."""
    import gunicorn.http.wsgi

    from dashboard.auth.headers import SERVER_BANNER
    from dashboard.runtime import tune_worker

    # gunicorn has no setting for its Server header (benoitc/gunicorn#825): each of the app's
    # responses takes the name from this module's SERVER (gunicorn's own error pages send none)
    gunicorn.http.wsgi.SERVER = SERVER_BANNER
    tune_worker()
