"""A throwaway PostgreSQL server for the tests and the two-host load test: Debian's ``postgresql``
binaries, a cluster in a temporary folder, listening on a free loopback port only, stopped and
deleted afterwards.

PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged system user
(``postgres``, which Debian's package creates; else one made here) and its commands run through
``runuser``. Password sign-in (scram-sha-256) over TCP, as a deployment would use.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROLE = "cdop"  # the cluster's superuser, which the app signs in as
SYSTEM_USER = "postgres"
FALLBACK_USER = "cdop-pg"  # made only where there is no postgres user (PostgreSQL not from Debian's package)
MISSING = "PostgreSQL is not installed: run bash scripts/test.sh, or apt-get install postgresql"


def bin_dir() -> Path:
    """Where initdb and pg_ctl are: Debian keeps them under /usr/lib/postgresql/VERSION/bin, off the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise RuntimeError(MISSING)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> list[str]:
    """The prefix that runs a command as the cluster's owner: nothing unless this is root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SYSTEM_USER)
        user = SYSTEM_USER
    except KeyError:
        user = FALLBACK_USER
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)  # noqa: S603,S607 - fixed
    return ["runuser", "-u", user, "--"]


class ThrowawayPostgres:
    """``start()``, then ``url(name)`` for a database made by ``create_database``; ``stop()`` ends it all.
    Also ``halt()`` and ``resume()``: the server stopped and started again on the same port and data."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.prefix = _run_as()
        # as root, in /tmp: the cluster's owner must reach it (TMPDIR may be inside root's own home)
        self.folder = Path(tempfile.mkdtemp(prefix="cdop-pg-", dir="/tmp" if self.prefix else None))  # noqa: S108 - mkdtemp: private
        self.data = self.folder / "data"
        self.password = secrets.token_hex(16)
        self.port = 0
        self._names = itertools.count(1)

    def _as_owner(self, *command: str, timeout: float = 120) -> None:
        result = subprocess.run(  # noqa: S603 - PostgreSQL's own programs, with arguments made here
            [*self.prefix, *command], cwd=self.folder, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()[-500:]}")

    def start(self) -> ThrowawayPostgres:
        if self.prefix:  # the folder is root's until given to the cluster's owner
            owner = self.prefix[2]
            shutil.chown(self.folder, user=owner, group=pwd.getpwnam(owner).pw_gid)
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n")
        if self.prefix:
            shutil.chown(password_file, user=self.prefix[2])
        self._as_owner(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", ROLE, "--pwfile", str(password_file),
            "--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        for attempt in range(3):
            self.port = free_port()
            try:
                self.resume()
                return self
            except RuntimeError:
                if attempt == 2:
                    raise
        return self

    def resume(self) -> None:
        """Start the server (again) on its port, waiting until it accepts connections."""
        # fsync and friends off: a test cluster's data need not survive a power cut
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._as_owner(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip

    def halt(self) -> None:
        """Stop the server at once (its clients see their connections broken), keeping its data."""
        self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _admin(self):  # a psycopg connection (psycopg imported only when used)
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=ROLE, password=self.password, dbname="postgres", autocommit=True
        )

    def create_database(self, template: str | None = None) -> str:
        """A new, empty database (or a copy of ``template``); returns its name."""
        import psycopg

        name = f"ops_{next(self._names)}_{secrets.token_hex(3)}"
        with self._admin() as admin:
            clause = f" TEMPLATE {template}" if template else ""
            for attempt in range(20):
                try:
                    admin.execute(f"CREATE DATABASE {name}{clause}")
                    break
                except psycopg.errors.ObjectInUse:  # the template still has a connection closing
                    if attempt == 19:
                        raise
                    time.sleep(0.05)
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending whatever connections to it are left (engines a test did not close)."""
        if not (self.data / "postmaster.pid").exists():
            return
        with self._admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
