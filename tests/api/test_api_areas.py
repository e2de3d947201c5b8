"""POST /api/v1/checkins: a check outside its subject's assigned area is stored ``out_of_area``."""

from __future__ import annotations

from sqlalchemy import select

from watchwall.metrics.geo.models import SubjectArea
from watchwall.metrics.models import LocationCheck, Subject


def test_a_check_outside_the_area_is_stored_out_of_area(api):
    with api.engine.begin() as connection:
        subject = connection.execute(select(Subject.id).where(Subject.external_id == "S-0001")).scalar_one()
        connection.execute(
            SubjectArea.__table__.insert(),
            {
                "subject_id": subject,
                "kind": "radius",
                "home_latitude": 34.58,
                "home_longitude": 105.72,
                "radius_m": 1500,
            },
        )
    rows = [
        {"external_id": "A-IN", "subject": "S-0001", "checked_at": "2024-05-01T08:00:00+08:00", "method": "dingtalk",
         "result": "ok", "latitude": 34.585, "longitude": 105.72},
        {"external_id": "A-OUT", "subject": "S-0001", "checked_at": "2024-05-01T15:00:00+08:00", "method": "dingtalk",
         "result": "ok", "latitude": 34.62, "longitude": 105.72},
    ]  # fmt: skip
    response = api.post("checkins", {"rows": rows}, token="checkins")
    assert response.status_code == 200, response.get_json()
    with api.engine.connect() as connection:
        stored = dict(connection.execute(select(LocationCheck.external_id, LocationCheck.result)).all())
    assert stored == {"A-IN": "ok", "A-OUT": "out_of_area"}
