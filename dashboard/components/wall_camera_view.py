"""One camera full screen on the wall: its live picture, name, health and open incidents, a way back
to the tour and a jump to its recording of the last minutes.

The frame is drawn once here; wall-view.js fills it when the URL's hash says ``#camera=ID`` (so the
browser's back button closes it), and the health table comes from :func:`camera_health_table`."""

from __future__ import annotations

from urllib.parse import unquote

from dash import html

from watchwall.dashboard.components.camera_live_cells import live_cells, live_headers
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import t

PLAYBACK_MINUTES = 5  # the playback jump starts this long before now

LABEL_KEYS = (
    "back",
    "playback",
    "health",
    "incidents",
    "no_incidents",
    "enlarge",
    "open_hint",
    "unknown",
    "centre_shown",
    "acknowledge",
)


def view_labels(language: str) -> dict:
    labels = {key: t(f"wall.view.{key}", language) for key in LABEL_KEYS}
    labels["playback_minutes"] = PLAYBACK_MINUTES
    return labels


def focused_camera(hash_: str | None) -> str | None:
    """The camera id of ``#camera=ID``, else None."""
    if not hash_:
        return None
    for part in hash_.lstrip("#").split("&"):
        key, _, value = part.partition("=")
        if key == "camera" and value:
            return unquote(value)
    return None


def camera_health_table(context: AppContext, camera_id: str, language: str) -> html.Table | html.P:
    if not any(place.camera.id == camera_id for place in context.site.cameras()):
        return html.P(t("wall.view.unknown", language), className="camera-view-unknown")
    headers, cells = live_headers(language), live_cells(context, camera_id, language)
    return html.Table(
        html.Tbody(
            [
                html.Tr([html.Th(header, scope="row"), html.Td(cell)])
                for header, cell in zip(headers, cells, strict=True)
            ]
        ),
        className="health-table camera-view-health-table",
    )


def camera_view(language: str) -> html.Div:
    return html.Div(
        [
            # clicked by wall-view.js when the shown camera's state changes: its health again
            html.Button(id="camera-view-refresh", n_clicks=0, hidden=True),
            html.Div(
                [
                    html.H2(id="camera-view-name", className="camera-view-name"),
                    html.Span(id="camera-view-state", className="camera-view-state"),
                    html.A(
                        t("wall.view.playback", language),
                        id="camera-view-playback",
                        className="tool-button camera-view-playback",
                        href="/recordings",
                    ),
                    html.Button(
                        t("wall.view.back", language),
                        id="camera-view-back",
                        className="tool-button camera-view-back",
                        type="button",
                    ),
                ],
                className="camera-view-head",
            ),
            html.Div(
                [
                    html.Div(id="camera-view-video", className="camera-view-video"),
                    html.Aside(
                        [
                            html.H3(t("wall.view.health", language)),
                            html.Div(id="camera-view-health"),
                            html.H3(t("wall.view.incidents", language)),
                            html.Ul(id="camera-view-incidents", className="camera-view-incidents"),
                        ],
                        className="camera-view-side",
                    ),
                ],
                className="camera-view-body",
            ),
        ],
        id="camera-view",
        className="camera-view",
        role="dialog",
        **{"aria-labelledby": "camera-view-name", "aria-modal": "true"},
    )
