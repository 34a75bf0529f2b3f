"""Load test: concurrent users signing in and changing filters, against gunicorn on loopback.

    .venv/bin/python scripts/loadtest.py                     # 50 users for 2 minutes
    .venv/bin/python scripts/loadtest.py --users 5 --seconds 10 --scale 0.1
    .venv/bin/python scripts/loadtest.py --hosts 2 --users 100   # two hosts, one PostgreSQL

Builds a synthetic store (cached in bench/cache/), starts gunicorn with the
project's gunicorn.conf.py (the default worker count) on a free 127.0.0.1 port,
and runs each user in its own thread: sign in, then change a filter and redraw
the overview again and again, as the browser does (it writes the URL itself,
then sends the page's callback). Traffic goes only to 127.0.0.1; every loop is
bounded by the time limit. Prints and writes p50/p95/p99 latency and errors.

With ``--hosts 2`` it starts a throwaway PostgreSQL (Debian's, as the tests do) and two gunicorn
servers, each with its own DATA_DIR and copy of the store, one SECRET_KEY and OPERATIONAL_DB_URL:
each user signs in on one host and its callbacks then take turns between the hosts, as behind a
load balancer without sticky sessions.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

CACHE = PROJECT / "bench" / "cache"
FILTER_PARAMS = {
    "fy": ["2019", "2020", "2021", "2022", "2023", "2024", "2025"],
    "age": ["0-27d", "28-364d", "1-4y", "5-9y", "10-14y", "15-17y"],
    "place": ["nicu", "lnu", "picu", "ed", "paediatric_ward", "delivery_suite"],
    "residence": ["footprint", "england", "uk_other"],
    "status": ["notified", "under_review", "completed"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str]) -> subprocess.Popen[str]:
    """gunicorn with the project's gunicorn.conf.py (its default worker count), as in production."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "app:server"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_serving(server: subprocess.Popen[str], base: str) -> None:
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"gunicorn did not start: {server.communicate(timeout=30)[1][-2000:]}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class User:
    def __init__(self, base: str, username: str, password: str, others: list[str] | None = None) -> None:
        self.base = base
        self.username = username
        self.password = password
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        # the hosts a load balancer spreads this user's callbacks over (one cookie jar: cookies name no port)
        self.hosts = others or [base]
        self.turn = self.hosts.index(base) if base in self.hosts else 0

    def next_host(self) -> str:
        self.turn = (self.turn + 1) % len(self.hosts)
        return self.hosts[self.turn]

    def request(
        self, path: str, body: dict[str, Any] | None = None, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        data, headers = None, {}
        if body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
        base = self.next_host() if path == "/_dash-update-component" else self.base
        req = urllib.request.Request(base + path, data=data, headers=headers)  # noqa: S310 - loopback only
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def sign_in(self) -> None:
        status, page = self.request("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"no login page ({status})")
        status, _ = self.request(
            "/login", form={"username": self.username, "password": self.password, "csrf_token": token.group(1).decode()}
        )
        if status not in (200, 302):
            raise RuntimeError(f"{self.username} could not sign in ({status})")


def run_user(
    user: User, deadline: float, think: float, latencies: list[float], errors: list[str], lock: threading.Lock
) -> None:
    from bench.dash_request import callback_body

    rng = random.Random(user.username)  # noqa: S311 - picks filters, not secrets
    try:
        user.sign_in()
        status, raw = user.request("/_dash-dependencies")
        dependencies = json.loads(raw)
        overview = next(d for d in dependencies if "overview-trust.figure" in d["output"])  # its first chart
    except Exception as error:  # noqa: BLE001 - counted, not raised: one user's failure is a result
        with lock:
            errors.append(f"{user.username}: {error!r}")
        return
    while time.monotonic() < deadline:
        param = rng.choice(list(FILTER_PARAMS))
        search = "?" + urllib.parse.urlencode({param: rng.choice(FILTER_PARAMS[param])})
        # the browser writes the URL itself; the overview's callback is the one request
        started = time.perf_counter()
        status, raw = user.request(
            "/_dash-update-component", body=callback_body(overview, {"url.search": search}, "url.search")
        )
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if status not in (200, 204):
                errors.append(f"{user.username}: HTTP {status} {raw[:120]!r}")
        if think:  # a person looks at the page before the next change
            time.sleep(min(rng.uniform(0.5 * think, 1.5 * think), max(0.0, deadline - time.monotonic())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic store size (x national volume)")
    parser.add_argument(
        "--think", type=float, default=2.0, help="mean seconds a user looks at the page between changes (0: none)"
    )
    parser.add_argument("--out", type=Path, default=CACHE / "loadtest.json")
    parser.add_argument(
        "--hosts", type=int, default=1, help="app servers (2: two hosts sharing a throwaway PostgreSQL and SECRET_KEY)"
    )
    args = parser.parse_args()
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 900 or not 1 <= args.hosts <= 4:
        raise SystemExit("use 1-200 users for 1-900 seconds on 1-4 hosts")

    from bench.stores import store_dir
    from operational.accounts import demo_password

    source = store_dir(args.scale)
    run_dir = CACHE / "loadtest-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    env = {**os.environ, "HOST": "127.0.0.1"}
    database = None
    if args.hosts > 1:  # as behind a load balancer: one PostgreSQL and one SECRET_KEY for every host
        from scripts.throwaway_postgres import ThrowawayPostgres

        database = ThrowawayPostgres().start()
        env.update(OPERATIONAL_DB_URL=database.url(database.create_database()), SECRET_KEY=secrets.token_hex(32))
    servers: list[subprocess.Popen[str]] = []
    try:
        bases = []
        for host in range(args.hosts):  # each host its own DATA_DIR, with its own copy of the store
            data_dir = run_dir / f"host{host}"
            data_dir.mkdir(parents=True)
            shutil.copyfile(source / "deaths.duckdb", data_dir / "deaths.duckdb")
            port = free_port()
            bases.append(f"http://127.0.0.1:{port}")
            servers.append(start_server({**env, "DATA_DIR": str(data_dir), "PORT": str(port)}))
        for server, base in zip(servers, bases, strict=True):
            wait_until_serving(server, base)
        from ingest.reference import read_reference
        from settings import REFERENCE_DIR

        codes = [
            c
            for c, end in zip(*(read_reference(REFERENCE_DIR).cdops[k] for k in ("cdop_code", "valid_to")), strict=True)
            if end is None
        ]
        names = [("admin", "admin-demo")] + [(c.lower(), demo_password(c)) for c in codes]
        # with several hosts, each user's requests take turns between them (no sticky sessions)
        users = [User(bases[i % len(bases)], *names[i % len(names)], others=bases) for i in range(args.users)]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=run_user, args=(u, deadline, args.think, latencies, errors, lock)) for u in users
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        if database is not None:
            database.stop()

    milliseconds = [1000 * x for x in latencies]
    result = {
        "users": args.users,
        "hosts": args.hosts,
        "operational_store": "postgresql" if args.hosts > 1 else "sqlite",
        "seconds": round(wall, 1),
        "scale": args.scale,
        "think_seconds": args.think,
        "requests": len(latencies),
        "errors": len(errors),
        "requests_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(milliseconds, 0.50), 1),
        "p95_ms": round(percentile(milliseconds, 0.95), 1),
        "p99_ms": round(percentile(milliseconds, 0.99), 1),
        "mean_ms": round(statistics.fmean(milliseconds), 1) if milliseconds else None,
        "cores": os.cpu_count(),
        "first_errors": errors[:5],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
