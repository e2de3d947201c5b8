"""A labelled form field and a result line styled as success or error, for the admin forms."""

from __future__ import annotations

from dash import html


def field(label: str, control, control_id: str, *, wrapper_id: str | None = None, hidden: bool = False):
    """``control`` with a visible label tied to it (``for``), so it is named without its placeholder."""
    extra = {"id": wrapper_id} if wrapper_id else {}
    return html.Div(
        [html.Label(label, htmlFor=control_id, id=f"{control_id}-label", className="admin-label"), control],
        className="admin-field",
        hidden=hidden,
        **extra,
    )


def result_line(message: str, ok: bool) -> html.P:
    """An error is announced at once (role=alert) and styled as one; a success is a status line."""
    return html.P(
        message,
        className="admin-ok" if ok else "admin-error",
        role="status" if ok else "alert",
    )
