"""Which camera a centre is roll-called on: one the site file marks ``rollcall: true``, else the
first camera of a room of kind ``monitoring`` (监控指挥室). Disabled cameras are never chosen."""

from __future__ import annotations

from watchwall.config.site import Camera, Centre, Room


def rollcall_camera(centre: Centre) -> tuple[Room, Camera] | None:
    marked = [(room, camera) for room in centre.rooms for camera in room.cameras if camera.rollcall]
    monitoring = [
        (room, camera)
        for room in centre.rooms
        if room.standard_kind == "monitoring"
        for camera in room.cameras
    ]
    for room, camera in marked + monitoring:
        if camera.enabled:
            return room, camera
    return None


def camera_in_centre(centre: Centre, camera_id: str) -> tuple[Room, Camera] | None:
    for room in centre.rooms:
        for camera in room.cameras:
            if camera.id == camera_id and camera.enabled:
                return room, camera
    return None
