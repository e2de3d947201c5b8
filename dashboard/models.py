"""The dashboard's tables. For now: the tamper-evident audit log, whose tables live in
``watchwall.audit.log`` (the media plane appends to it too); re-exported here."""

from __future__ import annotations

from watchwall.audit.log import AuditEntry, AuditHead  # noqa: F401  (re-exported)
