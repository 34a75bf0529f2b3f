"""Footprint mapping (administrators only): the mapping in force on any day,
its history, and scheduled changes (a trust moves, CDOPs merge, a CDOP is
renamed, or NCMD's official mapping is uploaded), each previewed before it is
applied with a reason."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date
from typing import Any

import polars as pl
from dash import Input, Output, State, ctx, dcc, html, set_props
from flask import request

from dashboard.auth.admin_gate import admin_callback
from dashboard.callbacks import Callbacks
from dashboard.context import services, signed_in_user
from dashboard.ui import ids
from dashboard.ui.components import notice, table
from footprints import csv_format as mapping_csv
from footprints import proposals as mapping_admin
from footprints import store as mapping_store
from footprints.changes import MappingError, MappingInvalid
from footprints.preview import Side
from footprints.store import MappingConflict
from queries import admin

callbacks = Callbacks()
PATH = "/admin/mapping"
NAME = "Footprint mapping"
ADMIN_ONLY = True
USES_FILTERS = False
KINDS = {
    "move": "Move a trust to another CDOP (or add it to one)",
    "merge": "Merge two or more CDOPs into a new one",
    "rename": "Rename a CDOP",
}
FIELDS = (
    ids.MAP_TRUST,
    ids.MAP_FROM,
    ids.MAP_TO,
    ids.MAP_CDOPS,
    ids.MAP_CDOP,
    ids.MAP_CODE,
    ids.MAP_NAME,
    ids.MAP_DATE,
)
FORM = (State(ids.MAP_KIND, "value"), *(State(f, "value") for f in FIELDS))
UPLOAD = (State(ids.MAP_UPLOAD, "contents"), State(ids.MAP_UPLOAD, "filename"))


def _field(label: str, component_id: str, hint: str, **props: Any) -> html.Div:
    return html.Div(
        className="field",
        children=[
            html.Label(label, htmlFor=component_id),
            dcc.Input(id=component_id, type="text", className="text-input", debounce=True, **props),
            html.P(hint, className="hint", id=f"{component_id}-hint"),
        ],
    )


def layout(**_query: Any) -> html.Div:
    today = services().today()
    return html.Div(
        [
            html.H1("Footprint mapping"),
            html.P(
                "Which hospital trusts are in each CDOP's footprint, on any day, and how that changed. "
                "A change takes effect on its date for every user, with no restart; nothing is overwritten.",
                className="lede",
            ),
            html.Section(
                className="card",
                **{"aria-labelledby": "map-in-force-title"},
                children=[
                    html.H2("The mapping in force", id="map-in-force-title"),
                    _field("On the day", ids.MAP_DAY, "YYYY-MM-DD", value=today.isoformat()),
                    html.Div(id=ids.MAP_IN_FORCE),
                ],
            ),
            html.Section(
                className="card",
                **{"aria-labelledby": "map-history-title"},
                children=[
                    html.H2("History", id="map-history-title"),
                    _field(
                        "Trust or CDOP code",
                        ids.MAP_HISTORY_CODE,
                        "Every row ever recorded for it, retired ones too; leave blank for the list of changes.",
                    ),
                    html.Div(id=ids.MAP_HISTORY),
                ],
            ),
            html.Section(
                className="card",
                **{"aria-labelledby": "map-change-title"},
                children=[
                    html.H2("Schedule a change", id="map-change-title"),
                    html.Div(
                        className="field",
                        children=[
                            html.Label("Kind of change", htmlFor=ids.MAP_KIND),
                            dcc.Dropdown(
                                id=ids.MAP_KIND,
                                options=[{"label": v, "value": k} for k, v in KINDS.items()],
                                value="move",
                                clearable=False,
                                className="filter-select",
                            ),
                        ],
                    ),
                    html.Div(
                        className="filter-grid",
                        children=[
                            _field("Trust code", ids.MAP_TRUST, "Move: the trust's 3-character ODS code."),
                            _field("From CDOP", ids.MAP_FROM, "Move: the CDOP it leaves; blank to add it."),
                            _field("To CDOP", ids.MAP_TO, "Move: the CDOP whose footprint it joins."),
                            _field("CDOPs to merge", ids.MAP_CDOPS, "Merge: codes separated by commas."),
                            _field("CDOP to rename", ids.MAP_CDOP, "Rename: its code."),
                            _field("New CDOP code", ids.MAP_CODE, "Merge: the new CDOP's code."),
                            _field("New name", ids.MAP_NAME, "Merge or rename: the CDOP's name from then on."),
                            _field("Effective date", ids.MAP_DATE, "YYYY-MM-DD, today or later."),
                        ],
                    ),
                    html.Button("Preview the change", id=ids.MAP_PREVIEW_BUTTON, className="button", n_clicks=0),
                    html.H3("Or upload NCMD's mapping"),
                    html.P(
                        "A CSV in the footprint.csv format (trust_code, cdop_code, valid_from, valid_to; see "
                        "data/README.md) replaces every footprint row: each row is checked, and it is applied "
                        "all or nothing.",
                        className="hint",
                    ),
                    # the label around it names the upload's hidden file input for screen readers
                    html.Label(
                        dcc.Upload(
                            id=ids.MAP_UPLOAD,
                            children=html.Span(["Mapping CSV: drop it here or ", html.U("choose a file")]),
                            className="upload",
                            accept=".csv,text/csv",
                            max_size=mapping_csv.MAX_BYTES,
                        )
                    ),
                ],
            ),
            html.Section(
                className="card",
                **{"aria-labelledby": "map-preview-title"},
                children=[
                    html.H2("Preview and apply", id="map-preview-title"),
                    dcc.Store(id=ids.MAP_PREVIEWED),
                    html.Div(id=ids.MAP_PREVIEW, **{"aria-live": "polite"}),
                    _field("Reason for the change", ids.MAP_REASON, "Required; kept with the change and audited."),
                    html.Button("Apply the change", id=ids.MAP_APPLY, className="button", n_clicks=0),
                    html.Div(id=ids.MAP_RESULT, role="status"),
                ],
            ),
        ]
    )


def _day(value: Any, default: date) -> date:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value.strip() else default
    except ValueError:
        return default


@callbacks(Output(ids.MAP_IN_FORCE, "children"), Input(ids.MAP_DAY, "value"))
@admin_callback(PATH)
def in_force(day_text: Any) -> Any:
    svc = services()
    day = _day(day_text, svc.today())
    conn = svc.store.cursor()
    try:
        mapping = svc.mappings.current(conn)
        names = admin.trust_names(conn)
    finally:
        conn.close()
    cdops = mapping.in_force(day)
    frame = pl.DataFrame(
        {
            "code": [c.code for c in cdops],
            "name": [c.name for c in cdops],
            "trusts": [len(mapping.trusts_of((c.code,), day)) for c in cdops],
            "list": [
                "; ".join(f"{t} {names.get(t, '')}".strip() for t in mapping.trusts_of((c.code,), day)) for c in cdops
            ],
        },
        schema={"code": pl.String, "name": pl.String, "trusts": pl.Int64, "list": pl.String},
    )
    caption = f"CDOPs in force on {day:%d %B %Y} and the trusts in their footprints"
    columns = [("code", "CDOP"), ("name", "Name"), ("trusts", "Trusts"), ("list", "Trusts in the footprint")]
    return [
        html.P(f"{len(cdops)} CDOPs on {day:%d %B %Y} (mapping version {mapping.version})."),
        table(frame, columns, caption, numeric=("trusts",), limit=100),
    ]


@callbacks(Output(ids.MAP_HISTORY, "children"), Input(ids.MAP_HISTORY_CODE, "value"))
@admin_callback(PATH)
def history(code: Any) -> Any:
    engine = services().engine
    wanted = code.strip().upper()[:10] if isinstance(code, str) else ""
    if not wanted:
        revs = mapping_store.revisions(engine, limit=100)
        frame = pl.DataFrame(
            {
                "id": [str(r["id"]) for r in revs],
                "at": [r["at"].strftime("%Y-%m-%d %H:%M") for r in revs],
                "username": [r["username"] for r in revs],
                "kind": [r["kind"] for r in revs],
                "effective": [r["effective_from"].isoformat() if r["effective_from"] else "" for r in revs],
                "reason": [r["reason"] for r in revs],
            },
            schema={c: pl.String for c in ("id", "at", "username", "kind", "effective", "reason")},
        )
        columns = [
            ("id", "Revision"),
            ("at", "Made (UTC)"),
            ("username", "By"),
            ("kind", "Kind"),
            ("effective", "Effective"),
            ("reason", "Reason"),
        ]
        return table(frame, columns, "Changes to the mapping, newest first", numeric=(), limit=100)
    rows = mapping_store.footprint_history(engine, trust_code=wanted) + mapping_store.footprint_history(
        engine, cdop_code=wanted
    )
    periods = mapping_store.cdop_history(engine, wanted)
    if not rows and not periods:
        return notice(f"No trust or CDOP {wanted} has ever been in the mapping.")
    frame = pl.DataFrame(
        {
            "trust": [r["trust_code"] for r in rows],
            "cdop": [r["cdop_code"] for r in rows],
            "from": [r["valid_from"].isoformat() for r in rows],
            "to": [r["valid_to"].isoformat() if r["valid_to"] else "" for r in rows],
            "state": [_state(r) for r in rows],
        },
        schema={c: pl.String for c in ("trust", "cdop", "from", "to", "state")},
    )
    parts: list[Any] = []
    if periods:
        cdop_frame = pl.DataFrame(
            {
                "code": [p["cdop_code"] for p in periods],
                "name": [p["cdop_name"] for p in periods],
                "from": [p["valid_from"].isoformat() for p in periods],
                "to": [p["valid_to"].isoformat() if p["valid_to"] else "" for p in periods],
                "successor": [p["successor_code"] or "" for p in periods],
                "state": [_state(p) for p in periods],
            },
            schema={c: pl.String for c in ("code", "name", "from", "to", "successor", "state")},
        )
        cdop_columns = [
            ("code", "CDOP"),
            ("name", "Name"),
            ("from", "From"),
            ("to", "Up to (not incl.)"),
            ("successor", "Became"),
            ("state", "Record"),
        ]
        parts.append(table(cdop_frame, cdop_columns, f"Periods of CDOP {wanted}", numeric=(), limit=200))
    columns = [("trust", "Trust"), ("cdop", "CDOP"), ("from", "From"), ("to", "Up to (not incl.)"), ("state", "Record")]
    parts.append(table(frame, columns, f"Footprint rows for {wanted}", numeric=(), limit=500))
    return parts


def _state(row: dict[str, Any]) -> str:
    if row["retired_by"]:
        return f"replaced by revision {row['retired_by']} (added by {row['added_by']})"
    return f"in the mapping (added by revision {row['added_by']})"


def _proposal(source: str, form: tuple[Any, ...], upload: tuple[Any, ...]) -> mapping_admin.Proposal:
    """The proposal for what the page holds, worked out afresh against the mapping in force."""
    svc = services()
    conn = svc.store.cursor()
    try:
        mapping = svc.mappings.current(conn)
        if source == "upload":
            contents, filename = upload
            data = _decoded(contents)
            name = filename if isinstance(filename, str) else "upload.csv"
            return mapping_admin.propose_upload(conn, svc.engine, mapping, data, name, svc.today())
        kind, *values = form
        if not isinstance(kind, str) or kind not in KINDS:
            raise MappingError("choose a kind of change")
        asked = {
            key: (value if isinstance(value, str) else "")[:200]
            for key, value in zip(("trust", "from", "to", "cdops", "cdop", "code", "name", "date"), values, strict=True)
        }
        return mapping_admin.propose(conn, svc.engine, mapping, kind, asked, svc.today())
    finally:
        conn.close()


def _fingerprint(source: str, form: tuple[Any, ...], upload: tuple[Any, ...]) -> str:
    """What was previewed, so that apply refuses a form edited since (it would apply an unseen change)."""
    shown = upload if source == "upload" else form
    return hashlib.sha256(json.dumps([source, *shown], default=str).encode()).hexdigest()[:32]


def _decoded(contents: Any) -> bytes:
    if not isinstance(contents, str) or "," not in contents:
        raise MappingError("choose a CSV file to upload")
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise MappingError("the upload could not be read; choose the file again") from None


@callbacks(
    Output(ids.MAP_PREVIEW, "children"),
    Output(ids.MAP_PREVIEWED, "data"),
    Input(ids.MAP_PREVIEW_BUTTON, "n_clicks"),
    Input(ids.MAP_UPLOAD, "contents"),
    *FORM,
    State(ids.MAP_UPLOAD, "filename"),
    prevent_initial_call=True,
)
@admin_callback(PATH)
def show_preview(_clicks: Any, contents: Any, *state: Any) -> Any:
    source = "upload" if ctx.triggered_id == ids.MAP_UPLOAD else "form"
    form, filename = state[: len(FORM)], state[len(FORM)]
    try:
        proposal = _proposal(source, form, (contents, filename))
    except (MappingError, MappingInvalid) as error:
        return _problems(error), None
    previewed = {"version": proposal.old.version, "source": source, "asked": _fingerprint(source, form, (contents,))}
    return _render(proposal), previewed


@callbacks(
    Output(ids.MAP_RESULT, "children"),
    Input(ids.MAP_APPLY, "n_clicks"),
    State(ids.MAP_REASON, "value"),
    State(ids.MAP_PREVIEWED, "data"),
    *FORM,
    *UPLOAD,
    prevent_initial_call=True,
)
@admin_callback(PATH)
def apply_change(_clicks: Any, reason: Any, previewed: Any, *state: Any) -> Any:
    user = signed_in_user()
    if not isinstance(previewed, dict) or previewed.get("source") not in ("form", "upload"):
        return notice("Preview the change first.", "error")
    form, upload = state[: len(FORM)], state[len(FORM) :]
    source = str(previewed["source"])
    if previewed.get("asked") != _fingerprint(source, form, upload[:1]):
        return notice("The change was edited after its preview: preview it again before applying.", "error")
    try:
        proposal = _proposal(source, form, upload)
        if proposal.old.version != previewed.get("version"):
            raise MappingConflict(mapping_store.CHANGED_MEANWHILE)
        applied = mapping_admin.commit(services().engine, proposal, user.username, request.remote_addr, reason)
    except (MappingError, MappingInvalid, MappingConflict) as error:
        return _problems(error)
    set_props(ids.MAP_PREVIEWED, {"data": None})
    when = f"from {proposal.effective_from:%d %B %Y}" if proposal.effective_from else "as uploaded"
    return notice(
        f"Applied as revision {applied.revision} ({when}): {applied.retired} rows replaced, {applied.added} added. "
        "Users see it on their next request.",
        "success",
    )


def _problems(error: Exception) -> html.Div:
    lines = mapping_admin.problems_of(error)
    return html.Div(
        className="notice error",
        role="alert",
        children=[
            html.P("Nothing was changed:" if len(lines) > 1 else f"Nothing was changed: {lines[0]}"),
            html.Ul([html.Li(line) for line in lines]) if len(lines) > 1 else None,
        ],
    )


def _side(side: Side | None, part: str) -> str:
    if side is None:
        return "—"
    return {"label": side.label, "trusts": f"{len(side.trusts)}", "deaths": f"{side.deaths:,}"}[part]


def _render(proposal: mapping_admin.Proposal) -> Any:
    p = proposal.preview
    parts: list[Any] = [
        html.P(
            f"On {p.day:%d %B %Y}, with this change: {len(p.trusts)} trusts move, {len(p.users)} users' views "
            f"change, {len(p.cdops)} CDOPs' footprints change. Deaths are every death in the store in the "
            "footprint's hospitals, counted by the report's own queries.",
            id="map-preview-summary",
        )
    ]
    if not p.changes_anything:
        parts.append(notice("Nothing changes on that day."))
    if p.cdops:
        frame = pl.DataFrame(
            {
                "code": [c.code for c in p.cdops],
                "before": [_side(c.before, "label") for c in p.cdops],
                "trusts_before": [_side(c.before, "trusts") for c in p.cdops],
                "deaths_before": [_side(c.before, "deaths") for c in p.cdops],
                "after": [_side(c.after, "label") for c in p.cdops],
                "trusts_after": [_side(c.after, "trusts") for c in p.cdops],
                "deaths_after": [_side(c.after, "deaths") for c in p.cdops],
            }
        )
        columns = [
            ("code", "CDOP"),
            ("before", "Sees before"),
            ("trusts_before", "Trusts before"),
            ("deaths_before", "Deaths before"),
            ("after", "Sees after"),
            ("trusts_after", "Trusts after"),
            ("deaths_after", "Deaths after"),
        ]
        numeric = ("trusts_before", "deaths_before", "trusts_after", "deaths_after")
        parts.append(table(frame, columns, "What each CDOP sees, before and after", numeric=numeric))
    if p.trusts:
        frame = pl.DataFrame(
            {
                "trust": [t.trust_code for t in p.trusts],
                "name": [t.trust_name for t in p.trusts],
                "before": [", ".join(t.before) or "no CDOP" for t in p.trusts],
                "after": [", ".join(t.after) or "no CDOP" for t in p.trusts],
            }
        )
        columns = [("trust", "Trust"), ("name", "Name"), ("before", "In the footprint of"), ("after", "Then in")]
        parts.append(table(frame, columns, "Trusts that move", numeric=()))
    if p.users:
        frame = pl.DataFrame(
            {
                "user": [u.username for u in p.users],
                "before": [_side(u.before, "label") for u in p.users],
                "after": [_side(u.after, "label") for u in p.users],
            }
        )
        columns = [("user", "User"), ("before", "Sees before"), ("after", "Sees after")]
        parts.append(table(frame, columns, "Users whose view changes", numeric=()))
    return parts
