"""How the app's bytes reach the browser: compressed, and cached for a year when the URL says
which version of a file it is.

**Compression** is flask-compress, switched on by Dash's ``compress=True``; ``COMPRESSION`` is
its configuration, set on the Flask server before Dash is built (flask-compress reads it then).

- Brotli, else gzip (``br`` first: a browser offering both gets brotli; zstd is not offered).
- One level for everything, brotli 5 and gzip 6: a 190 kB callback answer (admin, all England)
  takes under 1 ms at brotli 5 and shrinks 15-fold; plotly's 1.5 MB bundle takes about 30 ms,
  once per browser (it is cached for a year). Brotli 11 would save a further tenth on the big
  bundles but costs 2 s each, and flask-compress's cache of compressed bodies covers every
  compressed response, callbacks included, so a key mistake there would hand one user's
  answer to another: not worth 40 kB once per browser.
- A 1 MB brotli window (``lgwin`` 20): as small as the big bundles allow without growing. A
  streamed response is compressed chunk by chunk, and a brotli encoder holds back up to about
  twice its window before it writes anything, so this bounds what the case-list CSV keeps in
  memory (about 2 MB at a time; the default 4 MB window held back 8 MB).
- Streamed responses stay streamed (``COMPRESS_STREAMS``): flask-compress wraps a stream in an
  incremental compressor and drops its Content-Length, so the case-list CSV is never held
  whole. Flask sends files as streams too, hence gzip in ``COMPRESS_ALGORITHM_STREAMING``
  (flask-compress leaves it out by default). For the assets endpoint alone
  (``COMPRESS_STREAMING_ENDPOINT_CONDITIONAL``) flask-compress then holds the compressed file
  (460 kB at most) to give its length and to answer a browser revalidating with the
  compressed ETag with a 304.
- What is compressed: JavaScript, CSS, JSON (Dash's layout, dependencies and every callback
  answer), CSV downloads and icons. **HTML is not.** The sign-in pages carry a CSRF token
  beside text an attacker can choose (``/login?next=...``): that is the shape BREACH reads a
  secret from, by watching compressed sizes. Dash's own page (9 kB, no secret in it) would save
  6 kB, once per visit, so no HTML page is compressed and no future one can slip in. Of the
  JSON, Dash's layout holds the sign-out form's token but nothing from the request, callback
  answers reflect the request but hold no token, and the session cookie is ``SameSite=Lax``:
  another site cannot make a browser fetch either signed in.
- Nothing under 1 kB: it fits in one packet either way.

**Caching.** A fingerprinted URL names one version of a file, so it may be kept for a year and
never revalidated (``immutable``): Dash's component suites (``...v4_4_1m1795961542.min.js``,
where Dash already sends a year's ``max-age``) and the ``assets/`` files Dash links as
``?m=<modified time>``, when that time is the file's own (a stale or made-up ``m`` gets no
such promise). Every other file is revalidated (``no-cache``, with its ETag). Pages, Dash's
JSON and callback answers are ``no-store``: they hold a user's data and are never reused.
Responses that set their own Cache-Control (downloads, ``/healthz``, 429s) keep it.

**Preloading.** Dash's renderer asks for its layout and dependencies only once every script has
run, and dcc asks for its graph and dropdown code (webpack chunks, by unversioned URLs, so
revalidated) only when it first draws one: four steps in series on every full page load.
``preload_links`` names them in the page's head, so the browser fetches them while it reads
the scripts and hands them over when they are asked for (a fetch preload is used once, so
``no-store`` JSON is fine): on an office link each is a round trip saved.
"""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import brotli
import dash
from flask import Flask, Response, g, request
from werkzeug.security import safe_join

YEAR = 31_536_000
IMMUTABLE = f"public, max-age={YEAR}, immutable"
ASSETS_ENDPOINT = "_dash_assets.static"  # the blueprint Dash registers for assets/ (routes prefix "/")
COMPONENT_SUITES = "/_dash-component-suites/"

COMPRESSION = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_BR_WINDOW": 20,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 1024,
    "COMPRESS_STREAMS": True,
    "COMPRESS_STREAMING_ENDPOINT_CONDITIONAL": [ASSETS_ENDPOINT],
    "COMPRESS_MIMETYPES": [
        "application/javascript",
        "text/javascript",
        "text/css",
        "application/json",
        "text/csv",
        "text/plain",
        "image/svg+xml",
        "image/x-icon",
        "image/vnd.microsoft.icon",
    ],
}


def init(server: Flask, app: dash.Dash) -> None:
    """After Dash is built (with ``compress=True`` and ``COMPRESSION`` in the server's config)."""
    # Dash 4.4.1 means to default flask-compress to gzip only when unset, but asks hasattr() of
    # the config dict (always false) after flask-compress has read it: the app still offers
    # brotli, yet the config would say gzip. Keep the config true to what is served.
    server.config["COMPRESS_ALGORITHM"] = COMPRESSION["COMPRESS_ALGORITHM"]
    init_caching(server, app)
    folder = Path(app.config.assets_folder)
    # the sign-in pages (Jinja) link the same fingerprinted URLs as Dash's page, so the
    # browser reuses what it has, and asks for no /favicon.ico
    server.add_template_global(lambda name: f"/assets/{name}?m={os.stat(folder / name).st_mtime}", "asset_url")
    server.add_template_global(lambda: f"/_favicon.ico?v={dash.__version__}", "favicon_url")


# assets/ scripts that must run before Dash's own (see each file), so left out of Dash's list
EARLY_FOLDER = "early"
EARLY_SCRIPTS = (f"{EARLY_FOLDER}/native-builtins.js",)


def early_scripts(app: dash.Dash) -> str:
    """``<script>`` tags for ``EARLY_SCRIPTS``, fingerprinted as Dash links ``assets/`` files (so
    cached for a year, and never asked for again until the file changes)."""
    folder = Path(app.config.assets_folder)
    urls = [f"{app.get_asset_url(name)}?m={os.stat(folder / name).st_mtime}" for name in EARLY_SCRIPTS]
    return "\n".join(f'<script src="{url}"></script>' for url in urls)


# dcc's webpack chunks every report page needs at once: the filter bar's dropdowns and its charts
PRELOADED_CHUNKS = ("dcc/async-dropdown.js", "dcc/async-graph.js")


def preload_links(app: dash.Dash) -> str:
    """``<link rel=preload>`` tags for what Dash's page fetches first (see the module's docstring).
    A fetch preload is matched by URL, mode and credentials: Dash fetches same-origin with
    cookies, which is what ``crossorigin="anonymous"`` asks for on the same origin."""
    fetched = [app.get_relative_path(path) for path in ("/_dash-layout", "/_dash-dependencies")]
    chunks = [app.get_relative_path(f"{COMPONENT_SUITES}dash/{chunk}") for chunk in PRELOADED_CHUNKS]
    return "\n".join(
        [f'<link rel="preload" href="{url}" as="fetch" crossorigin="anonymous">' for url in fetched]
        + [f'<link rel="preload" href="{url}" as="script">' for url in chunks]
    )


def init_caching(server: Flask, app: dash.Dash) -> None:
    """Cache-Control on every response that does not set its own (see the module's docstring)."""
    assets_url = "/" + app.config.assets_url_path.strip("/") + "/"
    assets_folder = Path(app.config.assets_folder)

    compressed = server.extensions["compressed_files"] = CompressedFiles()

    @server.after_request
    def cache_control(response: Response) -> Response:
        path = request.path
        if path.startswith(COMPONENT_SUITES):
            # Dash gives a fingerprinted file a year's max-age and any other its ETag
            fingerprinted = response.cache_control.max_age == YEAR
            response.headers["Cache-Control"] = IMMUTABLE if fingerprinted else "no-cache"
        elif path.startswith(assets_url):
            fresh = fingerprinted_asset(assets_folder, path.removeprefix(assets_url), request.args.get("m"))
            response.headers["Cache-Control"] = IMMUTABLE if fresh else "no-cache"
        elif path == "/_favicon.ico":
            response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == dash.__version__ else "no-cache"
        elif "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        if response.headers.get("Cache-Control") == IMMUTABLE:
            compressed.serve(response)
        if path.startswith("/_dash-update-component") and "limit_clock" in g:
            # the browser's developer tools (and the benchmark) tell the server's part of a wait from the rest
            response.headers["Server-Timing"] = f"app;dur={1000 * (time.perf_counter() - g.limit_clock):.1f}"
        return response


class CompressedFiles:
    """Each fingerprinted file, compressed once per process and kept.

    flask-compress compresses every response anew: for the scripts of a first visit that is about
    70 ms of a worker's time (plotly's bundle alone 30 ms), spent while the browser, on the same
    machine or the same cores, is reading them. A fingerprinted URL names one version of one file,
    so its compressed body can be kept for the life of the process under that URL: there are only
    as many as the app has files, and nothing a request carries other than the URL and the
    encoding it accepts can change what is sent. Everything else still goes through flask-compress
    (this runs first, and flask-compress leaves a response that is already encoded alone).
    """

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], bytes] = {}

    def serve(self, response: Response) -> None:
        if (
            request.method != "GET"
            or response.status_code != 200
            or "Range" in request.headers
            or response.mimetype not in COMPRESSION["COMPRESS_MIMETYPES"]
            or "Content-Encoding" in response.headers
        ):
            return
        encoding = request.accept_encodings.best_match(COMPRESSION["COMPRESS_ALGORITHM"])
        if encoding is None:
            return
        key = (request.full_path, encoding)
        body = self._bodies.get(key)
        if body is None:
            response.direct_passthrough = False  # Flask sends files as a stream: read it whole
            body = self._bodies[key] = compress(response.get_data(), encoding)
        response.set_data(body)
        response.headers["Content-Encoding"] = encoding
        response.vary.add("Accept-Encoding")
        etag, weak = response.get_etag()
        if etag and not weak:  # a strong validator names one representation (as flask-compress does)
            response.set_etag(f"{etag}:{encoding}")


def compress(data: bytes, encoding: str) -> bytes:
    """``data`` as flask-compress would send it with ``COMPRESSION``."""
    if encoding == "br":
        return brotli.compress(data, quality=COMPRESSION["COMPRESS_BR_LEVEL"], lgwin=COMPRESSION["COMPRESS_BR_WINDOW"])
    return gzip.compress(data, compresslevel=COMPRESSION["COMPRESS_LEVEL"], mtime=0)


def fingerprinted_asset(folder: Path, name: str, stamp: str | None) -> bool:
    """Whether ``?m=stamp`` is the modified time Dash links ``assets/<name>`` with now."""
    if not stamp:
        return False
    found = safe_join(str(folder), name)
    if found is None:
        return False
    try:
        return stamp == str(os.stat(found).st_mtime)
    except OSError:
        return False
