"""``watchwall incidents list``: JSON for scripts, filters, clear errors."""

from __future__ import annotations

import json

from watchwall.config.incident_settings import IncidentSettings
from watchwall.config.settings import reset_settings_cache
from watchwall.incidents.store import open_incident
from watchwall.roles.cli import main


def test_list_as_json_with_filters_and_bad_input(incident_engine, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WATCHWALL_DATABASE_URL", incident_engine.url.render_as_string(hide_password=False))
    reset_settings_cache()
    try:
        camera = open_incident(
            incident_engine, IncidentSettings(), kind="covered", county="qinzhou", camera_id="c1"
        )
        open_incident(
            incident_engine, IncidentSettings(), kind="missed_checkin", county="maiji", subject_ref="李*"
        )
        assert main(["incidents", "list", "--json", "--county", "qinzhou"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [(r["id"], r["kind"], r["state"], r["county"], r["camera_id"]) for r in rows] == [
            (camera["id"], "covered", "open", "qinzhou", "c1")
        ]
        assert rows[0]["opened_at"].endswith("Z")
        assert main(["incidents", "list", "--json", "--state", "closed"]) == 0
        assert json.loads(capsys.readouterr().out) == []
        assert main(["incidents", "list"]) == 0
        assert "李*" in capsys.readouterr().out
        assert main(["incidents", "list", "--state", "done"]) == 2
        assert "is not one of open, acknowledged, handling, closed" in capsys.readouterr().err
    finally:
        reset_settings_cache()
