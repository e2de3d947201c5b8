"""Making one report: gather the figures, lay out the PDF, sign it, write it, audit its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from watchwall.audit.log import append
from watchwall.config.site import Site
from watchwall.reports.gather import gather
from watchwall.reports.layout import render_pdf
from watchwall.reports.period import CITY, ReportRequest
from watchwall.reports.signing import sidecar_path, signature_document, write_sidecar
from watchwall.reports.store import write_atomically
from watchwall.video.record.signing import load_or_create_signing_key

AUDIT_ACTION = "report"


@dataclass(frozen=True)
class GeneratedReport:
    path: Path
    sidecar: Path
    sha256: str
    figures: dict


def scope_name(site: Site, scope: str, language: str) -> str:
    if scope == CITY:
        city = next((c for c in site.centres if c.level == "city"), None)
        return city.label.get(language) if city else ("City" if language == "en" else "全市")
    return site.centre(scope).label.get(language)


def generate_report(
    engine: Engine,
    site: Site,
    request: ReportRequest,
    out: Path,
    *,
    data_dir: Path,
    zone,
    actor: str,
    address: str | None = None,
    now: datetime | None = None,
) -> GeneratedReport:
    """Write the signed report to ``out`` (and ``out``.sig) and its hash to the audit log."""
    now = now or datetime.now(UTC)
    language = request.language
    figures = gather(engine, site, request, zone, now)
    county_names = {centre.code: centre.label.get(language) for centre in site.counties}
    site_name = site.name.get(language) if site.name else ""
    pdf = render_pdf(
        figures,
        scope_name=scope_name(site, request.scope, language),
        county_names=county_names,
        site_name=site_name,
        generated=now.astimezone(zone).replace(microsecond=0),
    )
    key = load_or_create_signing_key(data_dir)
    described = {
        key: figures["report"][key] for key in ("id", "scope", "kind", "period", "language", "as_of")
    }
    described["generated"] = now.astimezone(UTC).isoformat(timespec="seconds")
    document = signature_document(pdf, described, key)
    write_atomically(out, pdf)
    write_sidecar(out, document)
    append(
        engine,
        actor=actor,
        action=AUDIT_ACTION,
        target=request.report_id,
        detail={
            "sha256": document["sha256"],
            "bytes": document["bytes"],
            "file": out.name,
            "as_of": described["as_of"],
        },
        address=address,
    )
    return GeneratedReport(out, sidecar_path(out), document["sha256"], figures)
