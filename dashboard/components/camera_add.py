"""/admin, "add a camera by its ONVIF address": the form's checks, the ONVIF session, and the one
translated line the page shows for each way it can fail.

The password typed in goes to the camera and, sealed, to the inventory
(:mod:`watchwall.cameras.password_seal`); it is never logged, audited or sent back to the page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from watchwall.cameras.errors import (
    CameraAuthError,
    CameraTimeout,
    CameraUnreachable,
    NotACamera,
    NotOnvif,
    OnvifError,
)
from watchwall.cameras.inventory import NewCamera, add_camera
from watchwall.cameras.parsers import parse_address
from watchwall.config.errors import UserError
from watchwall.dashboard.auth import audit
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import t

log = logging.getLogger(__name__)

NEW_ROOM = "__new__"  # the room dropdown's "create a new room" choice
ONVIF_FAILURES = (
    (NotACamera, "not_camera"),
    (NotOnvif, "not_onvif"),
    (CameraAuthError, "auth"),
    (CameraTimeout, "timeout"),
    (CameraUnreachable, "unreachable"),
)


@dataclass(frozen=True)
class AddOutcome:
    ok: bool
    message: str


@dataclass(frozen=True)
class CameraForm:
    centre: str | None
    room: str | None
    new_room: str | None
    camera_id: str | None
    name: str | None
    address: str | None
    user: str | None
    password: str | None

    def __repr__(self) -> str:  # the password never reaches a log through repr()
        return f"CameraForm(camera_id={self.camera_id!r}, address={self.address!r}, user={self.user!r})"

    def room_code(self) -> str:
        room = self.new_room if self.room == NEW_ROOM else self.room
        return (room or "").strip()


def onvif_message(error: OnvifError, address: str, timeout: float, language: str) -> str:
    """The translated line for ``error``; an unclassified one is logged (no password in it) for the admin."""
    for kind, key in ONVIF_FAILURES:
        if isinstance(error, kind):
            return t(f"admin.onvif.{key}", language).format(address=address, seconds=f"{timeout:g}")
    log.warning("ONVIF add at %s failed: %s", address, error)
    return t("admin.onvif.failed", language).format(address=address)


def _missing(form: CameraForm, language: str) -> list[str]:
    fields = (
        ("admin.centre", form.centre),
        ("admin.room", form.room_code()),
        ("admin.camera_id", form.camera_id),
        ("admin.camera_name", form.name),
        ("admin.onvif_address", form.address),
    )
    return [t(key, language) for key, value in fields if not (value or "").strip()]


def add_by_address(context: AppContext, form: CameraForm, language: str) -> AddOutcome:
    """Describe the camera at the form's address over ONVIF and store it; nothing is stored on failure."""

    def refused(reason: str) -> AddOutcome:
        return AddOutcome(False, t("admin.refused_because", language).format(reason=reason))

    missing = _missing(form, language)
    if missing:
        return refused(f"{t('admin.fill_in', language)} {', '.join(missing)}")
    if form.password and not (form.user or "").strip():
        return refused(t("admin.password_needs_user", language))
    timeout = context.settings.onvif_timeout_s
    address = (form.address or "").strip()
    try:
        host, port = parse_address(address)
        new = NewCamera(
            camera_id=(form.camera_id or "").strip(),
            centre=form.centre or "",
            room=form.room_code(),
            name=(form.name or "").strip(),
            host=host,
            port=port,
            username=(form.user or "").strip() or None,
            password=form.password or None,
        )
        row, _description = add_camera(
            context.engine,
            new,
            secrets_file=context.settings.secrets_file,
            timeout=timeout,
            site=context.site_file,
            key_dir=context.settings.data_dir,
        )
    except OnvifError as exc:
        return refused(onvif_message(exc, address, timeout, language))
    except (UserError, ValueError) as exc:  # the form's own values: the reason as the checks word it
        return refused(str(exc))
    audit("config_change", target=f"camera:{row.id}", detail={"added": "onvif", "host": row.onvif_host})
    return AddOutcome(True, t("admin.camera_added", language) + row.id)
