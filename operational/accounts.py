"""Users, passwords and CDOP grants in the operational store."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, RowMapping, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from operational import sessions
from operational.tables import password_changes_due, user_cdops, users
from operational.tables import sessions as session_rows
from queries.codes import cdop_code_problem

ROLES = ("cdop", "admin")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD_LENGTH = 12

# argon2id with the library's defaults (RFC 9106 low-memory profile) for real users.
HASHER = PasswordHasher()
# Demo passwords are published in the README, so their hashes need not be slow;
# cheap parameters keep the first start of the demo quick.
DEMO_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
# Verified against when the username is unknown, so that the answer takes as
# long whether or not the user exists: one per cost, since in demo mode the
# accounts checked carry the demo's cheaper hashes (a slower dummy would tell
# a timing test which usernames exist).
_DUMMY_HASH = HASHER.hash("no such user: this hash only spends the same time")
_DEMO_DUMMY_HASH = DEMO_HASHER.hash("no such user: this hash only spends the same time")


class AccountError(ValueError):
    """A user-facing problem with an account command."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    active: bool
    demo: bool
    cdop_codes: tuple[str, ...]
    must_change_password: bool = False  # an administrator reset it: choose a new one first

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise AccountError("usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    return name


def check_password(password: str, username: str) -> None:
    """Minimum policy for real users (NCSC: length over complexity rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if username.lower() in password.lower():
        raise AccountError("the password must not contain the username")
    if len(set(password)) < 5:
        raise AccountError("the password is too repetitive")


def add_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    cdop_codes: list[str] | tuple[str, ...] = (),
    *,
    demo: bool = False,
) -> User:
    name = check_username(username)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "cdop" and not cdop_codes:
        raise AccountError("a CDOP user needs at least one CDOP (--cdop CODE)")
    for code in cdop_codes:
        _grantable(code)
    if not demo:
        check_password(password, name)
    password_hash = (DEMO_HASHER if demo else HASHER).hash(password)
    try:
        with engine.begin() as db:
            if db.execute(select(users.c.id).where(users.c.username == name)).first():
                raise AccountError(f"user {name!r} already exists")
            user_id = db.execute(
                insert(users).values(
                    username=name,
                    password_hash=password_hash,
                    role=role,
                    active=True,
                    demo=demo,
                    created_at=_now(),
                )
            ).inserted_primary_key[0]
            for code in sorted(set(cdop_codes)):
                db.execute(insert(user_cdops).values(user_id=user_id, cdop_code=code))
    except IntegrityError:  # another process added the same name at the same moment
        raise AccountError(f"user {name!r} already exists") from None
    found = get_user_by_name(engine, name)
    assert found is not None
    return found


def get_user(engine: Engine, user_id: int) -> User | None:
    return _one(engine, users.c.id == user_id)


def get_user_by_name(engine: Engine, username: str) -> User | None:
    return _one(engine, users.c.username == username.strip().lower())


def _one(engine: Engine, condition: object) -> User | None:
    with engine.connect() as db:
        return user_from_rows(db.execute(user_select().where(condition)).mappings().all())  # type: ignore[arg-type]


def user_select() -> Select[Any]:
    """A user with their grants and any password change due, as one statement:
    a row per CDOP granted (one row with no CDOP if none), read by ``user_from_rows``."""
    return (
        select(
            *(users.c[name] for name in ("id", "username", "role", "active", "demo")),
            user_cdops.c.cdop_code,
            password_changes_due.c.user_id.label("password_change_due"),
        )
        .select_from(
            users.outerjoin(user_cdops, user_cdops.c.user_id == users.c.id).outerjoin(
                password_changes_due, password_changes_due.c.user_id == users.c.id
            )
        )
        .order_by(user_cdops.c.cdop_code)
    )


def user_from_rows(rows: Sequence[RowMapping]) -> User | None:
    """The user that ``user_select`` rows describe; None for no rows."""
    if not rows:
        return None
    row = rows[0]
    return User(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        active=row["active"],
        demo=row["demo"],
        cdop_codes=tuple(r["cdop_code"] for r in rows if r["cdop_code"] is not None),
        must_change_password=row["password_change_due"] is not None,
    )


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as db:
        ids = db.execute(select(users.c.id).order_by(users.c.username)).scalars().all()
    return [u for u in (get_user(engine, i) for i in ids) if u is not None]


def authenticate(engine: Engine, username: str, password: str, *, demo_mode: bool = False) -> User | None:
    """The user if the password matches and the account is active; else None,
    taking the same time whether or not the username exists (``demo_mode``:
    the accounts are the demo's, hashed at the demo's cost)."""
    with engine.connect() as db:
        row = (
            db.execute(select(users.c.id, users.c.password_hash).where(users.c.username == username.strip().lower()))
            .mappings()
            .first()
        )
    stored = row["password_hash"] if row else (_DEMO_DUMMY_HASH if demo_mode else _DUMMY_HASH)
    try:
        HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    user = get_user(engine, row["id"])
    return user if user and user.active else None


def set_active(engine: Engine, username: str, active: bool) -> User:
    user = _existing(engine, username)
    with engine.begin() as db:
        db.execute(update(users).where(users.c.id == user.id).values(active=active))
    sessions.end_all(engine, user.id, "disabled" if not active else "enabled")
    return _existing(engine, username)


def set_password(engine: Engine, username: str, password: str) -> User:
    user = _existing(engine, username)
    check_password(password, user.username)
    with engine.begin() as db:
        db.execute(update(users).where(users.c.id == user.id).values(password_hash=HASHER.hash(password)))
        db.execute(delete(password_changes_due).where(password_changes_due.c.user_id == user.id))
    sessions.end_all(engine, user.id, "password")
    return _existing(engine, username)


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def add_user_with_temporary_password(
    engine: Engine, username: str, role: str, cdop_codes: list[str] | tuple[str, ...]
) -> tuple[User, str]:
    """A new user (made by an administrator) with a one-off password they must change at first sign-in."""
    password = temporary_password()
    user = add_user(engine, username, password, role, cdop_codes)
    with engine.begin() as db:
        db.execute(insert(password_changes_due).values(user_id=user.id, since=_now()))
    return _existing(engine, user.username), password


def reset_password(engine: Engine, username: str) -> tuple[User, str]:
    """A one-off password the user must change at their next sign-in; their sessions end."""
    user = _existing(engine, username)
    password = temporary_password()
    with engine.begin() as db:
        db.execute(update(users).where(users.c.id == user.id).values(password_hash=HASHER.hash(password)))
        db.execute(delete(password_changes_due).where(password_changes_due.c.user_id == user.id))
        db.execute(insert(password_changes_due).values(user_id=user.id, since=_now()))
    sessions.end_all(engine, user.id, "password_reset")
    return _existing(engine, username), password


def set_role(engine: Engine, username: str, role: str) -> User:
    user = _existing(engine, username)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == user.role:
        raise AccountError(f"{user.username} is already {role}")
    if role == "cdop" and not user.cdop_codes:
        raise AccountError(f"grant {user.username} a CDOP before making them a CDOP user")
    with engine.begin() as db:
        db.execute(update(users).where(users.c.id == user.id).values(role=role))
    sessions.end_all(engine, user.id, "role")
    return _existing(engine, username)


def last_logins(engine: Engine) -> dict[int, datetime]:
    """Each user's latest sign-in (the start of their newest session)."""
    with engine.connect() as db:
        rows = db.execute(
            select(session_rows.c.user_id, func.max(session_rows.c.created_at)).group_by(session_rows.c.user_id)
        ).all()
    return {int(user_id): at for user_id, at in rows}


def _grantable(code: str) -> None:
    """A grant names a CDOP by the same rule its code was made by: a reserved word
    (say a CDOP coded ENGLAND from before the rule) is refused."""
    problem = cdop_code_problem(code)
    if problem:
        raise AccountError(problem)


def grant(engine: Engine, username: str, cdop_code: str) -> User:
    _grantable(cdop_code)
    user = _existing(engine, username)
    if cdop_code not in user.cdop_codes:
        with engine.begin() as db:
            db.execute(insert(user_cdops).values(user_id=user.id, cdop_code=cdop_code))
    return _existing(engine, username)


def revoke(engine: Engine, username: str, cdop_code: str) -> User:
    user = _existing(engine, username)
    if cdop_code not in user.cdop_codes:
        raise AccountError(f"{user.username} does not hold {cdop_code}")
    if user.role == "cdop" and len(user.cdop_codes) == 1:
        raise AccountError(f"{cdop_code} is {user.username}'s only CDOP; disable the user instead")
    with engine.begin() as db:
        db.execute(delete(user_cdops).where((user_cdops.c.user_id == user.id) & (user_cdops.c.cdop_code == cdop_code)))
    sessions.end_all(engine, user.id, "revoked")
    return _existing(engine, username)


def _existing(engine: Engine, username: str) -> User:
    user = get_user_by_name(engine, username)
    if user is None:
        raise AccountError(f"no user {username.strip().lower()!r}")
    return user


DEMO_ADMIN = ("admin", "admin-demo")


def demo_password(cdop_code: str) -> str:
    return f"demo-{cdop_code.lower()}"


def sync_demo_users(engine: Engine, cdop_codes: list[str], demo_mode: bool) -> None:
    """In demo mode every CDOP in force has a user named by its code in lower
    case (password ``demo-<code>``) and ``admin``/``admin-demo`` sees all
    England. Outside demo mode no demo user exists."""
    if not demo_mode:
        with engine.begin() as db:
            db.execute(delete(users).where(users.c.demo.is_(True)))
        return
    existing = {u.username for u in list_users(engine)}
    wanted = [(DEMO_ADMIN[0], DEMO_ADMIN[1], "admin", [])]
    wanted += [(code.lower(), demo_password(code), "cdop", [code]) for code in cdop_codes]
    for username, password, role, codes in wanted:
        if username in existing:
            continue
        try:
            add_user(engine, username, password, role, codes, demo=True)
        except AccountError:  # several workers start at once; one of them made it
            continue
