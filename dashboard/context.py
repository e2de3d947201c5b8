"""What the pages and sockets of one running WatchWall share, kept on the Flask app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flask
from sqlalchemy.engine import Engine

from watchwall.config.settings import Settings
from watchwall.config.site import Site

EXTENSION_KEY = "watchwall"


@dataclass
class AppContext:
    settings: Settings
    site: Site  # the site file's cameras and the inventory's; replaced whole when the inventory changes
    engine: Engine
    socketio: Any = None
    media: Any = (
        None  # the media plane as the web side sees it (watchwall.video.state.view.MediaView), if any
    )
    extras: dict[str, Any] = field(default_factory=dict)
    site_file: Site | None = None  # the site file alone (default: ``site``)

    def __post_init__(self) -> None:
        if self.site_file is None:
            self.site_file = self.site

    def county_names(self, language: str) -> dict[str, str]:
        return {centre.code: centre.label.get(language) for centre in self.site.counties}


def current() -> AppContext:
    return flask.current_app.extensions[EXTENSION_KEY]
