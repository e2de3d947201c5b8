"""Evidence locks on /recordings: lock a span of one or more cameras of the chosen centre with a
reason and an optional expiry, the list of active locks, and (for administrators) unlock with a reason.

Every callback checks the page's access again and goes through ``dashboard/evidence_marks.py``
(the same rules as the CLI: only an admin unlocks). A change bumps ``rec-lock-version``, which
redraws the timeline.
"""

from __future__ import annotations

from collections.abc import Callable

from dash import Input, Output, State, dcc, html, no_update

from watchwall.audit.log import AuditLog
from watchwall.config.errors import UserError
from watchwall.config.timestamps import local_text
from watchwall.dashboard import evidence_marks
from watchwall.dashboard.access import can_unlock, require
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.components.bookmark_panel import CELL, ERROR, OK, local_instant
from watchwall.dashboard.components.panel_style import BUTTON, CONTROL, INPUT, PANEL, labelled
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import t
from watchwall.video.record.locks import EvidenceLock, locked_spans_between


def timeline_locks(context: AppContext, camera_id: str, data: dict) -> list[dict]:
    """The camera's active locks touching the timeline's day, as the timeline figure takes them."""
    return [
        {"lock_id": span.lock_id, "start_utc": span.start_utc, "end_utc": span.end_utc}
        for span in locked_spans_between(context.engine, camera_id, data["start_utc"], data["end_utc"])
    ]


def lock_form(language: str, admin: bool) -> html.Section:
    def text_input(name: str, label: str, **extra):
        return labelled(label, dcc.Input(id=f"rec-lock-{name}", type="text", style=INPUT, **extra))

    def picker(name: str, label: str):  # the site's local time, to the second
        return labelled(
            label,
            dcc.Input(
                id=f"rec-lock-{name}", type="datetime-local", step=1, style={**INPUT, "colorScheme": "dark"}
            ),
        )

    unlock = html.Div(
        [
            labelled(
                t("ev.lock.unlock_id", language),
                dcc.Dropdown(id="rec-lock-unlock-id", style=CONTROL, clearable=False),
            ),
            text_input("unlock-reason", t("ev.lock.unlock_reason", language), maxLength=500),
            html.Button(
                t("ev.lock.unlock", language),
                id="rec-lock-unlock",
                n_clicks=0,
                style={**BUTTON, "background": "#7a2b2b"},
            ),
        ],
        style={"display": "flex" if admin else "none", "flexDirection": "column", "gap": "8px"},
    )
    return html.Section(
        [
            dcc.Store(id="rec-lock-version", data=0),
            html.H2(t("ev.lock.title", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.P(t("ev.lock.hint", language), style={"margin": 0, "opacity": 0.7, "fontSize": "0.85em"}),
            labelled(
                t("ev.lock.cameras", language),
                dcc.Dropdown(id="rec-lock-cameras", multi=True, style=CONTROL),
            ),
            picker("from", t("ev.lock.from", language)),
            picker("to", t("ev.lock.to", language)),
            text_input("reason", t("ev.lock.reason", language), maxLength=500),
            text_input("expires", t("ev.lock.expires", language)),
            html.P(id="rec-lock-message", role="status", style=ERROR),
            html.Button(t("ev.lock.submit", language), id="rec-lock-submit", n_clicks=0, style=BUTTON),
            unlock,
        ],
        className="rec-lock-form",
        style={**PANEL, "flex": "1 1 0", "display": "flex", "flexDirection": "column", "gap": "8px"},
    )


def lock_list(language: str) -> html.Section:
    return html.Section(
        [
            html.H2(t("ev.lock.list", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.Div(id="rec-lock-results", style={"overflowX": "auto", "maxHeight": "260px"}),
        ],
        className="rec-lock-list",
        style={**PANEL, "display": "flex", "flexDirection": "column", "gap": "8px"},
    )


def _local(epoch: float, context: AppContext) -> str:
    return local_text(epoch, context.settings.zone)


def locks_table(found: list[EvidenceLock], context: AppContext, language: str):
    if not found:
        return html.P(t("ev.lock.none", language), style={"opacity": 0.7, "margin": 0})
    heads = [t(f"ev.lock.{key}", language) for key in ("id", "cameras", "span", "expires", "by", "reason")]
    rows = [
        html.Tr(
            [
                html.Td(str(lock.id), style=CELL),
                html.Td(", ".join(lock.cameras), style=CELL),
                html.Td(f"{_local(lock.start_utc, context)} – {_local(lock.end_utc, context)}", style=CELL),
                html.Td(
                    _local(lock.expires_utc, context) if lock.expires_utc else t("ev.lock.never", language),
                    style=CELL,
                ),
                html.Td(lock.created_by, style=CELL),
                html.Td(lock.reason, style=CELL),
            ],
            className="rec-lock-row",
            **{"data-lock": str(lock.id)},
        )
        for lock in found
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h, style=CELL) for h in heads])), html.Tbody(rows)],
        style={"borderCollapse": "collapse", "width": "100%", "fontSize": "0.9em"},
    )


def register_callbacks(app, allowed: Callable[[], bool]) -> None:
    """``allowed`` is the page's access check, run again in every callback."""

    @app.callback(
        Output("rec-lock-cameras", "options"),
        Output("rec-lock-cameras", "value"),
        Input("rec-camera", "options"),
        Input("rec-camera", "value"),
    )
    def cameras(options, camera_id):
        require(allowed())
        return options or [], [camera_id] if camera_id else []

    @app.callback(
        Output("rec-lock-from", "value"),
        Output("rec-lock-to", "value"),
        Input("rec-export-from", "value"),
        Input("rec-export-to", "value"),
        prevent_initial_call=True,
    )
    def follow_timeline(start, end):
        require(allowed())
        return start or "", end or ""

    @app.callback(
        Output("rec-lock-message", "children"),
        Output("rec-lock-message", "style"),
        Output("rec-lock-version", "data"),
        Input("rec-lock-submit", "n_clicks"),
        State("rec-lock-cameras", "value"),
        State("rec-lock-from", "value"),
        State("rec-lock-to", "value"),
        State("rec-lock-reason", "value"),
        State("rec-lock-expires", "value"),
        State("rec-lock-version", "data"),
        State("rec-language", "data"),
        prevent_initial_call=True,
    )
    def add(_clicks, camera_ids, start, end, reason, expires, version, language):
        require(allowed())
        context = current()
        try:
            lock = evidence_marks.add_lock(
                context.engine,
                context.site,
                current_principal(),
                camera_ids=[str(c) for c in (camera_ids or [])],
                start_utc=local_instant(start, t("ev.lock.from", language), language, context),
                end_utc=local_instant(end, t("ev.lock.to", language), language, context),
                reason=reason,
                expires_utc=local_instant(expires, t("ev.lock.expires", language), language, context, False),
                audit=AuditLog(context.engine),
                address=client_address(),
            )
        except UserError as exc:
            return str(exc), ERROR, no_update
        return t("ev.lock.added", language).format(id=lock.id), OK, (version or 0) + 1

    @app.callback(
        Output("rec-lock-message", "children", allow_duplicate=True),
        Output("rec-lock-message", "style", allow_duplicate=True),
        Output("rec-lock-version", "data", allow_duplicate=True),
        Input("rec-lock-unlock", "n_clicks"),
        State("rec-lock-unlock-id", "value"),
        State("rec-lock-unlock-reason", "value"),
        State("rec-lock-version", "data"),
        State("rec-language", "data"),
        prevent_initial_call=True,
    )
    def unlock(_clicks, lock_id, reason, version, language):
        require(allowed())
        if not str(reason or "").strip():
            return t("ev.error.unlock_reason", language), ERROR, no_update
        context = current()
        try:
            lock = evidence_marks.remove_lock(
                context.engine,
                current_principal(),
                lock_id,
                reason=reason,
                audit=AuditLog(context.engine),
                address=client_address(),
            )
        except UserError as exc:
            return str(exc), ERROR, no_update
        return t("ev.lock.unlocked", language).format(id=lock.id), OK, (version or 0) + 1

    @app.callback(
        Output("rec-lock-results", "children"),
        Output("rec-lock-unlock-id", "options"),
        Input("rec-lock-version", "data"),
        State("rec-language", "data"),
    )
    def listing(_version, language):
        require(allowed())
        context = current()
        principal = current_principal()
        found = evidence_marks.list_locks(context.engine, context.site, principal)
        options = [{"label": f"#{lock.id} {', '.join(lock.cameras)}", "value": lock.id} for lock in found]
        return locks_table(found, context, language), options if can_unlock(principal) else []
