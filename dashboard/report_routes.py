"""Report downloads: ``GET /reports/download/<id>`` (the PDF, audited as ``report_download``) and
``GET /reports/signature/<id>`` (its signature file). An id is looked up among the stored
reports, never used as a path; the principal must be allowed the report's scope."""

from __future__ import annotations

import flask

from watchwall.audit.listing import AuditLog
from watchwall.dashboard import access
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import current
from watchwall.reports.signing import sidecar_path
from watchwall.reports.store import StoredReport, find_report

DOWNLOAD_ACTION = "report_download"


def allowed_report(report_id: str) -> StoredReport:
    report = find_report(current().settings.data_dir, report_id)
    if report is None:
        flask.abort(404)
    principal = current_principal()
    if principal is None or not access.can_read_report(principal, report.scope):
        raise access.Forbidden()
    return report


def _attachment(path, name: str, mimetype: str):
    response = flask.send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def register(server: flask.Flask) -> None:
    @server.route("/reports/download/<report_id>", methods=["GET"])
    def download_report(report_id: str):
        report = allowed_report(report_id)
        AuditLog(current().engine)(
            actor=current_principal().username,
            action=DOWNLOAD_ACTION,
            target=report.report_id,
            detail={"sha256": report.sha256},
            address=client_address(),
        )
        return _attachment(report.path, f"{report.report_id}.pdf", "application/pdf")

    @server.route("/reports/signature/<report_id>", methods=["GET"])
    def download_signature(report_id: str):
        report = allowed_report(report_id)
        return _attachment(sidecar_path(report.path), f"{report.report_id}.pdf.sig", "application/json")
