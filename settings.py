"""Settings from environment variables, with safe defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
REFERENCE_DIR = PROJECT_DIR / "data" / "reference"
WEB_THREADS = 4  # threads in each web worker, unless WEB_THREADS says otherwise
SMTP_PORTS = {"starttls": 587, "ssl": 465, "off": 25}  # each TLS mode's usual port, unless SMTP_PORT says


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str
    port: int
    secret_key: str | None
    max_extract_mb: int
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    trusted_proxy: bool = False  # behind a reverse proxy that sets X-Forwarded-Proto/-For
    # attention flags: a death still without a reviewing CDOP this many days
    # after notification; a review still open this many months after notification
    unassigned_flag_days: int = 30
    open_review_flag_months: int = 12
    fixed_today: date | None = None  # the demo's "today" (tests of scheduled mapping changes); never real data
    # per-user limits (dashboard.auth.rate_limits): seconds of server time per window, and downloads per minute
    rate_limit_server_seconds: int = 15
    rate_limit_window_seconds: int = 10
    rate_limit_downloads: int = 20
    # the web server (gunicorn.conf.py, which `python app.py` serves with too): worker processes, and
    # threads in each (a thread, not a whole worker, waits on a slow client's download)
    web_workers: int = 1
    web_threads: int = 1
    # the e-mail digest (digest/): the mail server, the sender, and the address links in mail point to
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "starttls"  # starttls, ssl or off (off only to a loopback host)
    mail_from: str | None = None
    public_url: str | None = None
    # the operational store as a SQLAlchemy URL (OPERATIONAL_DB_URL); None: the SQLite file in DATA_DIR
    operational_db_url: str | None = None

    def refusal(self, *, synthetic: bool) -> str | None:
        """Why the app must not serve a store (of synthetic or real deaths) with these settings, or None.
        The app checks it as it starts, and `python app.py` before it starts the web server."""
        if self.fixed_today is not None and not synthetic:
            return "FIXED_TODAY is for the synthetic demo and its tests only; unset it to serve real data"
        if not synthetic and not self.secret_key:
            return (
                "SECRET_KEY must be set for a real deployment (only the synthetic demo may generate its own): "
                "for example SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return None

    @property
    def store_path(self) -> Path:
        return self.data_dir / "deaths.duckdb"

    @property
    def operational_url(self) -> str:
        return self.operational_db_url or f"sqlite:///{self.data_dir / 'operational.sqlite'}"

    @property
    def reference_dir(self) -> Path:
        """The reference tables loads read: an administrator's ODS refresh
        (``python app.py reference import-ods``) in DATA_DIR, else the project's own."""
        refreshed = self.data_dir / "reference"
        return refreshed if (refreshed / "trusts.csv").exists() else REFERENCE_DIR

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    tls = (env.get("SMTP_TLS") or "starttls").strip().lower()
    if tls not in SMTP_PORTS:
        raise SystemExit(f"SMTP_TLS must be starttls, ssl or off, not {tls!r}")
    data_dir = Path(env.get("DATA_DIR", "") or PROJECT_DIR / "instance")
    return Settings(
        data_dir=data_dir.resolve(),
        host=env.get("HOST", "127.0.0.1"),
        port=_int(env, "PORT", 8050),
        secret_key=env.get("SECRET_KEY") or None,
        max_extract_mb=_int(env, "MAX_EXTRACT_MB", 800),
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int(env, "SESSION_MAX_HOURS", 12),
        trusted_proxy=env.get("TRUSTED_PROXY", "") in ("1", "true", "yes"),
        unassigned_flag_days=_int(env, "UNASSIGNED_FLAG_DAYS", 30, low=1),
        open_review_flag_months=_int(env, "OPEN_REVIEW_FLAG_MONTHS", 12, low=1),
        fixed_today=_day(env, "FIXED_TODAY"),
        rate_limit_server_seconds=_int(env, "RATE_LIMIT_SERVER_SECONDS", 15, low=1),
        rate_limit_window_seconds=_int(env, "RATE_LIMIT_WINDOW_SECONDS", 10, low=1),
        rate_limit_downloads=_int(env, "RATE_LIMIT_DOWNLOADS", 20, low=1),
        web_workers=_int(env, "WEB_WORKERS", cores() + 1, low=1),
        web_threads=_int(env, "WEB_THREADS", WEB_THREADS, low=1),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", SMTP_PORTS.get(tls, 587), low=1),
        smtp_user=env.get("SMTP_USER") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_tls=tls,
        mail_from=env.get("MAIL_FROM") or None,
        public_url=(env.get("PUBLIC_URL") or "").rstrip("/") or None,
        operational_db_url=database_url(env.get("OPERATIONAL_DB_URL", ""), "OPERATIONAL_DB_URL"),
    )


def secret_key(settings: Settings) -> str:
    """SECRET_KEY if set; else one generated once and kept in DATA_DIR (made
    atomically, so workers starting together all end up with the same key).
    The web app signs its cookies with it, and the e-mail digest its links."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / ".secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # fails if another worker published first: theirs wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def cores() -> int:
    """The processor cores this process may run on (a container's or taskset's share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _int(env: os._Environ[str] | dict[str, str], name: str, default: int, low: int | None = None) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if low is not None and value < low:
        raise SystemExit(f"{name} must be at least {low}, not {value}")
    return value


DATABASE_SCHEMES = ("sqlite", "postgresql")  # the operational stores the app supports


def database_url(raw: str, name: str) -> str | None:
    """``raw`` as a SQLAlchemy URL of a supported kind (``postgresql://`` is served through psycopg 3),
    None when empty; else the reason, in one line that names ``name`` (never the URL: it may hold a password)."""
    raw = raw.strip()
    if not raw:
        return None
    scheme = raw.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "postgres":  # the libpq spelling
        scheme = "postgresql"
    if scheme not in DATABASE_SCHEMES or "://" not in raw:
        raise SystemExit(f"{name} must be a sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME URL")
    if scheme == "postgresql":
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def _day(env: os._Environ[str] | dict[str, str], name: str) -> date | None:
    raw = env.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a date as YYYY-MM-DD, not {raw!r}") from None
