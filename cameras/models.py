"""The camera inventory: cameras added by ONVIF address, with their resolved stream URIs.

No password is stored in clear text: either a reference to where it lives (an env var name or a
key of the secrets file), or the password typed into /admin sealed under the data dir's camera key
(:mod:`watchwall.cameras.password_seal`). URIs are stored without credentials.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base


def utc_now() -> datetime:
    return datetime.now(UTC)


class InventoryCamera(Base):
    __tablename__ = "camera_inventory"
    __table_args__ = (
        CheckConstraint("onvif_port BETWEEN 1 AND 65535", name="onvif_port_range"),
        CheckConstraint(
            "NOT (password_env IS NOT NULL AND password_secret IS NOT NULL)", name="one_password_ref"
        ),
        CheckConstraint("transport IN ('auto', 'tcp', 'udp')", name="transport_known"),
    )

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    centre: Mapped[str] = mapped_column(String(63), index=True)
    room: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    onvif_host: Mapped[str] = mapped_column(String(255))
    onvif_port: Mapped[int] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(128))
    password_env: Mapped[str | None] = mapped_column(String(128))
    password_secret: Mapped[str | None] = mapped_column(String(128))
    password_sealed: Mapped[str | None] = mapped_column(Text)  # ciphertext only, never shown
    manufacturer: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(128))
    serial_number: Mapped[str | None] = mapped_column(String(128))
    main_stream_uri: Mapped[str | None] = mapped_column(String(1024))
    sub_stream_uri: Mapped[str | None] = mapped_column(String(1024))
    snapshot_uri: Mapped[str | None] = mapped_column(String(1024))
    ptz_capable: Mapped[bool] = mapped_column(Boolean, default=False)
    # RTP over the RTSP connection (tcp), over UDP, or auto: TCP first, UDP when the camera refuses it
    transport: Mapped[str] = mapped_column(String(8), default="auto", server_default="auto")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)

    def __repr__(self) -> str:
        return f"InventoryCamera(id={self.id!r}, centre={self.centre!r}, onvif={self.onvif_host}:{self.onvif_port})"
