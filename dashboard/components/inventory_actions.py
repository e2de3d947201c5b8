"""What an administrator does to an inventory camera from /admin: enable, disable, move to a new address.

Each action checks its input before touching anything, is audited when it changed the
inventory, and answers with one line for the page. The inventory watcher applies the
change to the ingest and tells the open pages (``cameras.changed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from watchwall.cameras.errors import OnvifError
from watchwall.cameras.inventory import get_camera, move_camera, set_enabled
from watchwall.cameras.parsers import parse_address
from watchwall.config.errors import UserError
from watchwall.dashboard.auth import audit
from watchwall.dashboard.components.camera_add import onvif_message
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import t

ACTIONS = ("enable", "disable", "move")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


def _inventory_id(context: AppContext, camera_id: str | None) -> str:
    """The id of an inventory camera (site-file cameras are changed in the site file, not here)."""
    camera_id = (camera_id or "").strip()
    if not camera_id or get_camera(context.engine, camera_id) is None:
        raise UserError(f"no camera {camera_id!r} in the inventory")
    return camera_id


def set_camera_enabled(context: AppContext, camera_id: str | None, enabled: bool, language: str) -> Outcome:
    try:
        camera_id = _inventory_id(context, camera_id)
        set_enabled(context.engine, camera_id, enabled)
    except UserError as exc:
        return Outcome(False, f"{t('admin.action_refused', language)}: {exc}")
    audit("config_change", target=f"camera:{camera_id}", detail={"enabled": enabled})
    done = t("admin.camera_enabled" if enabled else "admin.camera_disabled", language)
    return Outcome(True, f"{done} {camera_id}")


def move_to(context: AppContext, camera_id: str | None, address: str | None, language: str) -> Outcome:
    """Ask the camera at ``address`` (HOST[:PORT], port 80 if none) for its streams; store them if it answers."""
    try:
        camera_id = _inventory_id(context, camera_id)
        host, port = parse_address(address or "")
        before = get_camera(context.engine, camera_id)
        row, _description = move_camera(
            context.engine,
            camera_id,
            host=host,
            port=port,
            secrets_file=context.settings.secrets_file,
            timeout=context.settings.onvif_timeout_s,
            key_dir=context.settings.data_dir,
        )
    except OnvifError as exc:  # the camera at the new address: one translated line per failure
        message = onvif_message(exc, (address or "").strip(), context.settings.onvif_timeout_s, language)
        return Outcome(False, t("admin.refused_because", language).format(reason=message))
    except UserError as exc:  # unknown camera, bad address or port, a camera that does not answer
        return Outcome(False, f"{t('admin.action_refused', language)}: {exc}")
    audit(
        "config_change",
        target=f"camera:{camera_id}",
        detail={
            "moved_from": f"{before.onvif_host}:{before.onvif_port}",
            "moved_to": f"{row.onvif_host}:{row.onvif_port}",
        },
    )
    return Outcome(
        True, f"{t('admin.camera_moved', language)} {camera_id} → {row.onvif_host}:{row.onvif_port}"
    )


def run_action(context: AppContext, action: str, camera_id, address, language: str) -> Outcome:
    if action == "move":
        return move_to(context, camera_id, address, language)
    return set_camera_enabled(context, camera_id, action == "enable", language)
