"""Rows of toggle buttons for a page's own settings (a trend's grain, the map's threshold, the
Reviews page's window), kept in the URL like the filters so that a view can be bookmarked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dash import Input, ctx, html
from dash.exceptions import PreventUpdate

from dashboard.context import opened_view
from dashboard.urlstate import first


@dataclass(frozen=True)
class Choice:
    """One setting: its URL parameter, its button for each value, and the value left out of URLs."""

    param: str
    buttons: dict[str, str]  # value -> button id
    default: str

    def of(self, params: dict[str, list[str]]) -> str:
        """The value in force: the URL's, when it is one of the buttons', else the default."""
        value = first(params, self.param)
        return value if value in self.buttons else self.default


def toggle_group(legend: str, buttons: dict[str, str], labels: dict[str, str], chosen: str) -> html.Div:
    """A row of toggle buttons (aria-pressed), one pressed: plain buttons are
    announced and operated properly by every screen reader and keyboard."""
    return html.Div(
        role="group",
        className="toggles",
        **{"aria-labelledby": f"{next(iter(buttons.values()))}-legend"},
        children=[
            html.Span(legend, id=f"{next(iter(buttons.values()))}-legend", className="toggles-legend"),
            *(
                html.Button(
                    labels[key],
                    id=button_id,
                    n_clicks=0,
                    type="button",
                    className="toggle pressed" if key == chosen else "toggle",
                    **{"aria-pressed": "true" if key == chosen else "false"},
                )
                for key, button_id in buttons.items()
            ),
        ],
    )


def pressed_states(keys: dict[str, str], chosen: str) -> list[str]:
    """(aria-pressed, className) for each button of a toggle group, flattened."""
    return [value for key in keys for value in (("true", "toggle pressed") if key == chosen else ("false", "toggle"))]


def button_inputs(choices: Sequence[Choice]) -> list[Input]:
    """Every button's clicks, for the callback that writes the choice into the URL (``chosen_query``)."""
    return [Input(button, "n_clicks") for choice in choices for button in choice.buttons.values()]


def chosen_query(search: str | None, choices: Sequence[Choice]) -> str:
    """The URL's query once the pressed button's value is chosen, the other settings as they were
    (defaults left out); PreventUpdate when no button was pressed or nothing changes."""
    by_button = {button: (choice, value) for choice in choices for value, button in choice.buttons.items()}
    if ctx.triggered_id not in by_button or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    pressed, value = by_button[ctx.triggered_id]
    with opened_view(search) as view:
        chosen = {choice.param: choice.of(view.params) for choice in choices}
        chosen[pressed.param] = value
        query = view.query(
            **{
                choice.param: None if chosen[choice.param] == choice.default else chosen[choice.param]
                for choice in choices
            }
        )
    if query == (search or ""):
        raise PreventUpdate
    return query
