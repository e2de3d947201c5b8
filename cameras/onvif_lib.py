"""The onvif-zeep-async client, imported without its side effect on logging."""

from __future__ import annotations

import logging


def _import_onvif_camera():
    # onvif-zeep-async runs logging.basicConfig(level=INFO) on import, which would take over
    # the logging setup of every watchwall command; put the root logger back as it was.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from onvif import ONVIFCamera

    root.handlers[:] = handlers
    root.setLevel(level)
    return ONVIFCamera


ONVIFCamera = _import_onvif_camera()
