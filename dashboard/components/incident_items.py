"""Incident pieces any page may show: the wall's ticker of incidents, a centre's open / overdue
counts, and the hidden button that a push clicks to reload an incident list (assets/incidents.js)."""

from __future__ import annotations

import json

from dash import html

from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import t
from watchwall.incidents.kinds import CLOSE_REASONS, KINDS
from watchwall.incidents.states import STATES

INCIDENT_PUSH = "incidents"  # incidents.js clicks every button marked so when incident.changed arrives


def labels(language: str) -> dict:
    return {
        "kinds": {kind: t(f"incident.kind.{kind}", language) for kind in KINDS},
        "states": {state: t(f"incident.state.{state}", language) for state in STATES},
        "reasons": {reason: t(f"incident.reason.{reason}", language) for reason in CLOSE_REASONS},
        "recovered": t("incident.recovered", language),
        "overdue": t("incident.overdue", language),
        "escalated": t("incident.escalated", language),
        "open": t("incident.open_count", language),
        "overdue_count": t("incident.overdue_count", language),
    }


def place_names(context: AppContext, language: str) -> dict:
    return {
        "cameras": {
            place.camera.id: f"{place.centre.label.get(language)} {place.camera.name.get(language)}"
            for place in context.site.cameras()
        },
        "centres": {centre.code: centre.label.get(language) for centre in context.site.centres},
    }


def incident_ticker(context: AppContext, language: str, can_acknowledge: bool) -> html.Div:
    """The wall's ticker: open incidents (acknowledged ones dimmed, overdue ones red); city command
    acknowledges one with a click."""
    return html.Div(
        [
            html.Span(t("incident.ticker", language), className="ticker-title"),
            html.Div(
                id="incident-ticker",
                className="ticker incident-ticker",
                **{
                    "data-names": json.dumps(place_names(context, language), ensure_ascii=False),
                    "data-labels": json.dumps(labels(language), ensure_ascii=False),
                    "data-empty": t("incident.none", language),
                    "data-can-ack": "1" if can_acknowledge else "0",
                    "data-ack-hint": t("incident.ack_hint", language),
                },
            ),
            html.Span(id="incident-ticker-status", className="incident-status", role="status"),
        ],
        className="ticker-bar",
    )


def centre_counts(code: str, counts: dict[str, int] | None, language: str) -> html.Span:
    """ "n open · m overdue" of one centre; incidents.js keeps it live."""
    counts = counts or {"open": 0, "overdue": 0}
    text = f"{counts['open']} {t('incident.open_count', language)}"
    if counts["overdue"]:
        text += f" · {counts['overdue']} {t('incident.overdue_count', language)}"
    return html.Span(
        text,
        className="centre-incidents" + (" has-overdue" if counts["overdue"] else ""),
        **{"data-incidents-centre": code},
    )


def incident_refresh_button(button_id: str, centre: str | None = None) -> html.Button:
    """Hidden; clicked by incidents.js on ``incident.changed`` (only for ``centre`` when given)."""
    marks = {"data-push-refresh": INCIDENT_PUSH}
    if centre:
        marks["data-centre"] = centre
    return html.Button(id=button_id, n_clicks=0, hidden=True, **marks)
