"""My settings: the signed-in user's own e-mail digest (address, how often), and its confirmation.

Every callback here changes the signed-in user's own settings and nobody
else's: the browser sends an address and a choice, never whose they are.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app, request

from dashboard.callbacks import Callbacks
from dashboard.context import services, signed_in_user
from dashboard.ui import ids
from dashboard.ui.components import notice
from digest import subscribe
from digest.links import LINK_HOURS
from operational import digests
from operational.digests import DigestSettingsError, Subscription

callbacks = Callbacks()
PATH = "/settings"
NAME = "My settings"
USES_FILTERS = False
MAX_ADDRESS_INPUT = 400  # longer than any address, shorter than anything worth reading


def status_text(sub: Subscription | None) -> str:
    """Where the user's digest stands, in one sentence."""
    if sub is None or not sub.email:
        return "You get no e-mail digest."
    if not sub.verified:
        sent = f" (sent {sub.link_sent_at:%d %B %Y, %H:%M} UTC)" if sub.link_sent_at else ""
        return (
            f"Waiting for you to confirm {sub.email}: follow the link we sent{sent}; it lasts {LINK_HOURS} hours. "
            "Nothing is sent to the address until then."
        )
    if sub.frequency == "off":
        return f"{sub.email} is confirmed, and the digest is off."
    return f"The digest goes {subscribe.CHOICE_LABELS[subscribe.choice_of(sub)].lower()} to {sub.email} (confirmed)."


def layout(**_query: Any) -> html.Div:
    user = signed_in_user()
    sub = digests.get(services().engine, user.id)
    return html.Div(
        [
            html.H1("My settings"),
            html.Section(
                className="card",
                **{"aria-labelledby": "settings-digest-title"},
                children=[
                    html.H2("E-mail digest", id="settings-digest-title"),
                    html.P(
                        "A short e-mail that tells you how many deaths arrived in your footprint's hospitals since "
                        "the last one: their total, by who reviews them, and the attention flags, with a link to the "
                        "What's new page. It holds counts only: no case details, dates or hospitals. Nothing is sent "
                        "when nothing is new, unless you choose weekly even when nothing is new.",
                        className="lede",
                    ),
                    html.P(status_text(sub), id=ids.SETTINGS_STATUS, role="status"),
                    html.Div(
                        className="field",
                        children=[
                            html.Label("E-mail address", htmlFor=ids.SETTINGS_EMAIL),
                            dcc.Input(
                                id=ids.SETTINGS_EMAIL,
                                type="email",
                                value=sub.email if sub and sub.email else "",
                                className="text-input",
                                autoComplete="email",
                                maxLength=254,
                            ),
                            html.P(
                                "A new address gets a link to confirm it first (you sign in to follow it). "
                                "Leave it empty to stop the digest and forget the address.",
                                className="hint",
                            ),
                        ],
                    ),
                    html.Div(
                        className="field",
                        children=[
                            html.Label("How often", htmlFor=ids.SETTINGS_FREQUENCY),
                            dcc.Dropdown(
                                id=ids.SETTINGS_FREQUENCY,
                                options=[
                                    {"label": text, "value": key} for key, text in subscribe.CHOICE_LABELS.items()
                                ],
                                value=subscribe.choice_of(sub),
                                clearable=False,
                                searchable=False,
                                className="filter-select",
                            ),
                        ],
                    ),
                    html.P(
                        [
                            html.Button("Save", id=ids.SETTINGS_SAVE, n_clicks=0, type="button", className="button"),
                            " ",
                            html.Button(
                                "Send the confirmation link again",
                                id=ids.SETTINGS_RESEND,
                                n_clicks=0,
                                type="button",
                                className="button secondary",
                            ),
                        ]
                    ),
                    html.Div(id=ids.SETTINGS_RESULT, **{"aria-live": "polite"}),
                ],
            ),
        ]
    )


def _clicked(clicks: Any) -> None:
    if not isinstance(clicks, int) or isinstance(clicks, bool) or clicks < 1:
        raise PreventUpdate


@callbacks(
    Output(ids.SETTINGS_RESULT, "children"),
    Output(ids.SETTINGS_STATUS, "children"),
    Input(ids.SETTINGS_SAVE, "n_clicks"),
    State(ids.SETTINGS_EMAIL, "value"),
    State(ids.SETTINGS_FREQUENCY, "value"),
    prevent_initial_call=True,
)
def save(clicks: Any, email: Any, choice: Any) -> tuple[Any, Any]:
    """Save the signed-in user's own digest settings (a new address gets its link)."""
    _clicked(clicks)
    if isinstance(email, str) and len(email) > MAX_ADDRESS_INPUT:
        return notice("Nothing was changed: that is not an e-mail address this app can send to.", "error"), no_update
    user = signed_in_user()
    svc = services()
    key = current_app.config["SECRET_KEY"]
    try:
        saved = subscribe.save(svc.settings, svc.engine, key, user, email, choice, user.username, request.remote_addr)
    except DigestSettingsError as error:
        return notice(f"Nothing was changed: {error}.", "error"), no_update
    tone = "error" if saved.link_problem else "success"
    return notice(saved.describe(), tone), status_text(saved.subscription)


@callbacks(
    Output(ids.SETTINGS_RESULT, "children", allow_duplicate=True),
    Output(ids.SETTINGS_STATUS, "children", allow_duplicate=True),
    Input(ids.SETTINGS_RESEND, "n_clicks"),
    prevent_initial_call=True,
)
def resend(clicks: Any) -> tuple[Any, Any]:
    """Send the signed-in user's confirmation link again."""
    _clicked(clicks)
    user = signed_in_user()
    svc = services()
    key = current_app.config["SECRET_KEY"]
    try:
        saved = subscribe.resend(svc.settings, svc.engine, key, user, user.username, request.remote_addr)
    except DigestSettingsError as error:
        return notice(f"Nothing was sent: {error}.", "error"), no_update
    if saved.link_problem:
        return notice(f"Nothing was sent: {saved.link_problem}.", "error"), status_text(saved.subscription)
    return notice(f"A new link was sent to {saved.link_sent_to}.", "success"), status_text(saved.subscription)
