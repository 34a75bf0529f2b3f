"""Users (administrators only): who may sign in, with which CDOPs, and when
they last did; create, disable, reset a password, grant and revoke CDOPs, set
the role. Every change is audited; new and reset passwords are one-off and
must be changed at the next sign-in."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, State, dcc, html
from flask import current_app, request

from dashboard.auth.admin_gate import admin_callback
from dashboard.callbacks import Callbacks
from dashboard.context import services, signed_in_user
from dashboard.ui import ids
from dashboard.ui.components import notice, table
from dashboard.views.my_settings import MAX_ADDRESS_INPUT
from digest import subscribe
from operational import accounts, audit, digests
from operational.accounts import AccountError, User
from operational.digests import DigestSettingsError, Subscription

callbacks = Callbacks()
PATH = "/admin/users"
NAME = "Users"
ADMIN_ONLY = True
USES_FILTERS = False
ACTIONS = {
    "create": "Create a user (a one-off password is shown once)",
    "disable": "Disable a user (ends their sessions)",
    "enable": "Enable a disabled user",
    "reset": "Reset a password (must be changed at next sign-in)",
    "grant": "Grant a CDOP",
    "revoke": "Revoke a CDOP",
    "role": "Set the role",
    "digest": "Set their e-mail digest (a new address gets a link to confirm it)",
}
ROLES = {"cdop": "CDOP user (sees their CDOPs' footprints)", "admin": "NCMD administrator (all England)"}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Users"),
            html.P(
                "Everyone who may sign in, the CDOPs whose footprints they see, and their latest sign-in. "
                "Changes take effect at once and are recorded in the audit log.",
                className="lede",
            ),
            html.Section(
                className="card",
                **{"aria-labelledby": "users-change-title"},
                children=[
                    html.H2("Change a user", id="users-change-title"),
                    html.Div(
                        className="filter-grid",
                        children=[
                            html.Div(
                                className="field",
                                children=[
                                    html.Label("What to do", htmlFor=ids.USERS_ACTION),
                                    dcc.Dropdown(
                                        id=ids.USERS_ACTION,
                                        options=[{"label": v, "value": k} for k, v in ACTIONS.items()],
                                        value="create",
                                        clearable=False,
                                        className="filter-select",
                                    ),
                                ],
                            ),
                            _input("Username", ids.USERS_NAME, "2-64 lower-case letters, digits, '.', '_' or '-'."),
                            _input("CDOP code", ids.USERS_CDOP, "Create (a CDOP user), grant or revoke."),
                            _input("E-mail address", ids.USERS_EMAIL, "Their digest: empty for none."),
                            html.Div(
                                className="field",
                                children=[
                                    html.Label("E-mail digest", htmlFor=ids.USERS_DIGEST),
                                    dcc.Dropdown(
                                        id=ids.USERS_DIGEST,
                                        options=[{"label": v, "value": k} for k, v in subscribe.CHOICE_LABELS.items()],
                                        value="off",
                                        clearable=False,
                                        className="filter-select",
                                    ),
                                ],
                            ),
                            html.Div(
                                className="field",
                                children=[
                                    html.Label("Role", htmlFor=ids.USERS_ROLE),
                                    dcc.Dropdown(
                                        id=ids.USERS_ROLE,
                                        options=[{"label": v, "value": k} for k, v in ROLES.items()],
                                        value="cdop",
                                        clearable=False,
                                        className="filter-select",
                                    ),
                                ],
                            ),
                        ],
                    ),
                    html.Button("Make the change", id=ids.USERS_GO, className="button", n_clicks=0),
                    html.Div(id=ids.USERS_RESULT, **{"aria-live": "polite"}),
                ],
            ),
            html.Div(id=ids.USERS_TABLE, className="card"),
        ]
    )


def _input(label: str, component_id: str, hint: str) -> html.Div:
    return html.Div(
        className="field",
        children=[
            html.Label(label, htmlFor=component_id),
            dcc.Input(id=component_id, type="text", className="text-input", debounce=True),
            html.P(hint, className="hint"),
        ],
    )


def users_frame(users: list[User], last: dict[int, Any], subs: dict[int, Subscription] | None = None) -> pl.DataFrame:
    subs = subs or {}
    return pl.DataFrame(
        {
            "username": [u.username for u in users],
            "role": [u.role for u in users],
            "cdops": [", ".join(u.cdop_codes) or ("all England" if u.is_admin else "") for u in users],
            "state": [
                ("active" if u.active else "disabled")
                + (", must change password" if u.must_change_password else "")
                + (", demo" if u.demo else "")
                for u in users
            ],
            "last_login": [last[u.id].strftime("%Y-%m-%d %H:%M") if u.id in last else "never" for u in users],
            "digest": [subs[u.id].describe() if u.id in subs else "off (no address)" for u in users],
        },
        schema={c: pl.String for c in ("username", "role", "cdops", "state", "last_login", "digest")},
    )


def _listing() -> Any:
    engine = services().engine
    users = accounts.list_users(engine)
    columns = [
        ("username", "User"),
        ("role", "Role"),
        ("cdops", "CDOPs"),
        ("state", "State"),
        ("last_login", "Latest sign-in (UTC)"),
        ("digest", "E-mail digest"),
    ]
    frame = users_frame(users, accounts.last_logins(engine), digests.all_by_user(engine))
    return table(frame, columns, "Users", numeric=(), limit=1000)


@callbacks(Output(ids.USERS_TABLE, "children"), Input(ids.USERS_RESULT, "children"))
@admin_callback(PATH)
def listing(_result: Any) -> Any:
    return _listing()


def _set_digest(admin: User, username: str, email: Any, every: Any) -> Any:
    """An administrator sets a user's digest: the same save (and link) as the user's own settings page."""
    svc = services()
    user = accounts.get_user_by_name(svc.engine, username) if username else None
    if user is None:
        return notice(f"Nothing was changed: no user {username or '(blank)'!r}.", "error")
    if isinstance(email, str) and len(email) > MAX_ADDRESS_INPUT:
        return notice("Nothing was changed: that is not an e-mail address this app can send to.", "error")
    key = current_app.config["SECRET_KEY"]
    try:
        saved = subscribe.save(svc.settings, svc.engine, key, user, email, every, admin.username, request.remote_addr)
    except DigestSettingsError as error:
        return notice(f"Nothing was changed: {error}.", "error")
    return notice(f"{user.username}: {saved.describe()}", "error" if saved.link_problem else "success")


def _known_cdop(code: str) -> str:
    svc = services()
    conn = svc.store.cursor()
    try:
        codes = svc.mappings.current(conn).codes()
    finally:
        conn.close()
    if code not in codes:
        raise AccountError(f"there is no CDOP {code or '(blank)'} in the mapping")
    return code


@callbacks(
    Output(ids.USERS_RESULT, "children"),
    Input(ids.USERS_GO, "n_clicks"),
    State(ids.USERS_ACTION, "value"),
    State(ids.USERS_NAME, "value"),
    State(ids.USERS_CDOP, "value"),
    State(ids.USERS_ROLE, "value"),
    State(ids.USERS_EMAIL, "value"),
    State(ids.USERS_DIGEST, "value"),
    prevent_initial_call=True,
)
@admin_callback(PATH)
def change(_clicks: Any, action: Any, username: Any, cdop: Any, role: Any, email: Any, every: Any) -> Any:
    admin = signed_in_user()
    engine = services().engine
    name = username.strip().lower()[:64] if isinstance(username, str) else ""
    code = cdop.strip().upper()[:10] if isinstance(cdop, str) else ""
    role = role if isinstance(role, str) and role in ROLES else ""
    if not isinstance(action, str) or action not in ACTIONS:
        return notice("Choose what to do.", "error")
    if action == "digest":
        return _set_digest(admin, name, email, every)
    shown_once = None
    try:
        if name == admin.username and action in ("disable", "role", "reset"):
            raise AccountError("you cannot disable, demote or reset your own account here")
        if action == "create":
            codes = [_known_cdop(code)] if role == "cdop" else []
            user, shown_once = accounts.add_user_with_temporary_password(engine, name, role, codes)
        elif action in ("disable", "enable"):
            user = accounts.set_active(engine, name, action == "enable")
        elif action == "reset":
            user, shown_once = accounts.reset_password(engine, name)
        elif action == "grant":
            user = accounts.grant(engine, name, _known_cdop(code))
        elif action == "revoke":
            user = accounts.revoke(engine, name, code)
        else:
            user = accounts.set_role(engine, name, role)
    except AccountError as error:
        return notice(f"Nothing was changed: {error}.", "error")
    audit.record(
        engine,
        "admin_action",
        admin.username,
        request.remote_addr,
        action=f"user {action}",
        target=user.username,
        role=user.role,
        cdops=list(user.cdop_codes),
        active=user.active,
    )
    done = f"Done: {ACTIONS[action].split(' (')[0].lower()} for {user.username}."
    if shown_once is None:
        return notice(done, "success")
    return html.Div(
        className="notice success",
        role="status",
        children=[
            html.P(done),
            html.P(
                [
                    "One-off password (shown only now; give it to them safely, they must change it when they "
                    "sign in): ",
                    html.Code(shown_once, id="users-one-off"),
                ]
            ),
        ],
    )
