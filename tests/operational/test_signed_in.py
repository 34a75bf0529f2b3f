"""Who is asking, read in one statement: the session, its user, grants and the mapping's version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select, update

from dashboard.ui import ids
from footprints.store import seed
from operational import accounts, sessions, signed_in
from operational import tables as operational
from queries.mapping import Mapping
from tests.conftest import make_app
from tests.conftest import signed_in as signed_in_client
from tests.dash_client import DashClient

POLICY = sessions.SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


@pytest.fixture
def engine(operational_url: str) -> Engine:
    return operational.connect(operational_url)


def session_for(engine: Engine, username: str, role: str = "cdop", codes: tuple[str, ...] = ()) -> str:
    user = accounts.add_user(engine, username, "a long enough password", role, codes)
    return sessions.start(engine, user.id)


def test_the_user_comes_back_with_every_grant_and_the_mapping_version(engine: Engine) -> None:
    token = session_for(engine, "two.panels", codes=("NCL", "LLR"))
    asking = signed_in.resume(engine, token, POLICY)
    assert asking is not None
    assert asking.user.username == "two.panels" and asking.user.cdop_codes == ("LLR", "NCL")
    assert asking.user.role == "cdop" and asking.user.active and not asking.user.must_change_password
    assert asking.mapping_version is None  # not seeded yet
    seed(engine, Mapping(cdops=(), footprint=()))
    again = signed_in.resume(engine, token, POLICY)
    assert again is not None and again.mapping_version == 1


def test_a_user_without_grants_and_a_password_change_due(engine: Engine) -> None:
    token = session_for(engine, "an.admin", role="admin")
    asking = signed_in.resume(engine, token, POLICY)
    assert asking is not None and asking.user.cdop_codes == () and asking.user.is_admin
    user, _temporary = accounts.reset_password(engine, "an.admin")
    assert signed_in.resume(engine, token, POLICY) is None  # a reset ends the user's sessions
    asking = signed_in.resume(engine, sessions.start(engine, user.id), POLICY)
    assert asking is not None and asking.user.must_change_password


def test_a_grant_added_shows_on_the_next_read_and_a_revoked_one_ends_the_session(engine: Engine) -> None:
    token = session_for(engine, "panel.user", codes=("LLR",))
    accounts.grant(engine, "panel.user", "NCL")
    asking = signed_in.resume(engine, token, POLICY)
    assert asking is not None and asking.user.cdop_codes == ("LLR", "NCL")
    user = accounts.revoke(engine, "panel.user", "NCL")
    assert signed_in.resume(engine, token, POLICY) is None
    asking = signed_in.resume(engine, sessions.start(engine, user.id), POLICY)
    assert asking is not None and asking.user.cdop_codes == ("LLR",)


@pytest.mark.parametrize("token", ["", "not-a-session", "x" * 101])
def test_a_token_that_names_no_session_is_nobody(engine: Engine, token: str) -> None:
    session_for(engine, "someone", codes=("LLR",))
    assert signed_in.resume(engine, token, POLICY) is None


@pytest.mark.parametrize(
    ("aged", "reason"),
    [({"last_seen_at": timedelta(minutes=31)}, "idle"), ({"created_at": timedelta(hours=13)}, "lifetime")],
)
def test_an_expired_session_is_ended_when_it_is_read(engine: Engine, aged: dict[str, timedelta], reason: str) -> None:
    token = session_for(engine, "someone", codes=("LLR",))
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as db:
        db.execute(update(operational.sessions).values({column: now - delta for column, delta in aged.items()}))
    assert signed_in.resume(engine, token, POLICY) is None
    with engine.connect() as db:
        assert db.execute(select(operational.sessions.c.ended_reason)).scalar() == reason
    assert signed_in.resume(engine, token, POLICY) is None  # and stays ended


def test_a_signed_out_session_is_nobody(engine: Engine) -> None:
    token = session_for(engine, "someone", codes=("LLR",))
    sessions.end(engine, token, "logout")
    assert signed_in.resume(engine, token, POLICY) is None


def test_a_filter_change_reads_the_operational_store_once_and_writes_one_audit_row(own_settings) -> None:
    """What makes a filter change cost little besides its query: one read of who
    is asking (and the mapping's version) and one audit row; nothing else. The per-user
    server-time budget (dashboard.auth.rate_limits) is counted in the worker and written
    now and then (operational.limit_store), not on every change."""
    app = make_app(own_settings)
    client = DashClient(signed_in_client(app, "llr"))
    page = {"url.pathname": "/trusts", "url.search": ""}
    client.outputs(ids.DRILL_TABLE, page)  # the first view seeds the mapping and fills caches
    engine = app.server.extensions["cdop"].engine
    statements: list[str] = []

    def count(_conn, _cursor, statement: str, *_args) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.outputs(ids.DRILL_TABLE, {**page, "url.search": "?fy=2024"})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == ["SELECT", "INSERT"]
