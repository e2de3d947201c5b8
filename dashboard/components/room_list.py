"""A centre's rooms and the cameras to pick in them, and the hidden button that reloads them on push.

Disabled cameras are not listed: they are not pulled, so there is nothing to watch.
"""

from __future__ import annotations

from dash import html

from watchwall.config.site import Camera, Centre

CAMERA_LISTS_PUSH = "cameras"  # push.js clicks every button marked so when cameras.changed arrives


def listed_cameras(centre: Centre) -> list[Camera]:
    return [camera for camera in centre.cameras() if camera.enabled]


def room_blocks(centre: Centre, language: str, chosen: str | None) -> list[html.Div]:
    return [
        html.Div(
            [
                html.H3(room.name.get(language), className="room-name"),
                *[
                    html.Button(
                        camera.name.get(language),
                        id={"type": "camera-pick", "camera": camera.id},
                        className="camera-pick" + (" chosen" if camera.id == chosen else ""),
                    )
                    for camera in room.cameras
                    if camera.enabled
                ],
            ],
            className="room-block",
        )
        for room in centre.rooms
    ]


def push_refresh_button(button_id: str, centre: str | None = None) -> html.Button:
    """Hidden; a click is an ordinary Dash input. ``centre``: only that centre's changes click it."""
    marks = {"data-push-refresh": CAMERA_LISTS_PUSH}
    if centre:
        marks["data-centre"] = centre
    return html.Button(id=button_id, n_clicks=0, hidden=True, **marks)
