"""Incidents as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese text)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

COLUMNS = (
    "id", "kind", "severity", "state", "county", "centre", "room", "camera_id", "subject", "opened_at",
    "acknowledged_at", "closed_at", "close_reason", "ack_deadline_at", "close_deadline_at", "recovered_at",
    "count", "overdue", "escalated",
)  # fmt: skip


def incidents_csv(rows: Iterable[dict]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in COLUMNS})
    return out.getvalue()
