"""Where generated reports are kept: ``<data dir>/reports/<YYYY-MM>/<report id>.pdf`` with the
signature beside each, listed from the signatures (which say what each report is)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from watchwall.reports.period import ReportRequest
from watchwall.reports.signing import SIDECAR_SUFFIX, sidecar_path

REPORT_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def reports_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "reports"


def stored_path(data_dir: Path, request: ReportRequest) -> Path:
    return reports_dir(data_dir) / request.period.key[:7] / f"{request.report_id}.pdf"


@dataclass(frozen=True)
class StoredReport:
    path: Path
    report_id: str
    scope: str
    kind: str
    period: str
    language: str
    sha256: str
    size: int


def list_reports(data_dir: Path) -> list[StoredReport]:
    """Every stored report with a readable signature, newest period first."""
    found = []
    root = reports_dir(data_dir)
    if not root.is_dir():
        return []
    for sidecar in root.glob(f"*/*.pdf{SIDECAR_SUFFIX}"):
        pdf = sidecar.with_name(sidecar.name.removesuffix(SIDECAR_SUFFIX))
        try:
            document = json.loads(sidecar.read_text(encoding="utf-8"))
            report = document["report"]
            found.append(
                StoredReport(
                    pdf,
                    report["id"],
                    report["scope"],
                    report["kind"],
                    report["period"],
                    report["language"],
                    document["sha256"],
                    int(document["bytes"]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda r: (r.period, r.kind, r.scope, r.language), reverse=True)


def find_report(data_dir: Path, report_id: str) -> StoredReport | None:
    """The stored report of that id (an id is never used as a path before it is found here)."""
    if not report_id or not set(report_id) <= REPORT_ID_CHARS:
        return None
    return next((r for r in list_reports(data_dir) if r.report_id == report_id), None)


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def has_report(data_dir: Path, request: ReportRequest) -> bool:
    path = stored_path(data_dir, request)
    return path.is_file() and sidecar_path(path).is_file()
