"""POST /api/v1/checkins and /cases: validated whole, idempotent, every error status as JSON."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from watchwall.metrics.models import Case, ComplianceDaily, LocationCheck

from .rows import CASES, CHECKINS


def count(engine, model) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_checkins_are_written_once_and_reposting_changes_nothing(api):
    first = api.post("checkins", {"rows": CHECKINS}, token="checkins")
    assert first.status_code == 200, first.get_json()
    assert first.get_json() | {"message": ""} == {
        "rows": 3,
        "new": 3,
        "updated": 0,
        "unchanged": 0,
        "changed": True,
        "message": "",
    }
    assert count(api.engine, LocationCheck) == 3
    with api.engine.connect() as connection:  # the figures' roll-ups were rebuilt for that day
        rollups = connection.execute(
            select(ComplianceDaily).where(ComplianceDaily.day == date(2024, 5, 1))
        ).all()
    assert rollups, "the compliance roll-up of 2024-05-01 was not rebuilt"

    again = api.post("checkins", {"rows": CHECKINS}, token="checkins")
    assert again.status_code == 200
    body = again.get_json()
    assert (body["new"], body["updated"], body["unchanged"], body["changed"]) == (0, 0, 3, False)
    assert "3 unchanged" in body["message"]
    assert count(api.engine, LocationCheck) == 3


def test_a_changed_row_is_updated_by_external_id(api):
    assert api.post("checkins", {"rows": CHECKINS}).status_code == 200
    changed = [dict(CHECKINS[0], result="missed"), *CHECKINS[1:]]
    body = api.post("checkins", {"rows": changed}).get_json()
    assert (body["new"], body["updated"], body["unchanged"]) == (0, 1, 2)
    with api.engine.connect() as connection:
        result = connection.execute(select(LocationCheck.result).where(LocationCheck.external_id == "CHK-1"))
        assert result.scalar_one() == "missed"


def test_cases_accept_codes_or_chinese_names_and_a_single_object(api):
    response = api.post("cases", {"rows": CASES}, token="cases")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["new"] == 2
    single = api.post("cases", dict(CASES[0], source_agency="prison"), token="cases")
    assert single.status_code == 200, single.get_json()
    assert (single.get_json()["rows"], single.get_json()["updated"]) == (1, 1)
    with api.engine.connect() as connection:
        rows = dict(connection.execute(select(Case.external_id, Case.case_type)).all())
    assert rows == {"CASE-1": "correction_reception", "CASE-2": "pretrial_evaluation"}


def test_any_bad_row_refuses_the_whole_request_naming_every_bad_row(api):
    rows = [
        CHECKINS[0],
        dict(CHECKINS[1], method="carrier_pigeon"),
        CHECKINS[2],
        dict(CHECKINS[2], external_id="CHK-9", subject="S-9999"),
        "not an object",
        dict(CHECKINS[0], external_id="CHK-10", colour="blue"),
        dict(CHECKINS[0], external_id="CHK-11", latitude=95),
        dict(CHECKINS[0]),  # the same external id twice in one request
    ]
    response = api.post("checkins", {"rows": rows})
    assert response.status_code == 422
    body = response.get_json()
    assert "nothing was written" in body["error"]
    reasons = {detail["index"]: detail["reason"] for detail in body["details"]}
    assert sorted(reasons) == [1, 3, 4, 5, 6, 7]
    assert "carrier_pigeon" in reasons[1] and reasons[1].startswith("method")
    assert "S-9999" in reasons[3] and "not in the database" in reasons[3]
    assert reasons[4] == "not a JSON object"
    assert "colour" in reasons[5]
    assert reasons[6].startswith("latitude")
    assert "already on line 0" in reasons[7]
    assert count(api.engine, LocationCheck) == 0


def test_a_bad_case_row_is_refused(api):
    bad = dict(CASES[1], closed_at="2024-04-01T00:00:00+08:00", county="atlantis")
    response = api.post("cases", {"rows": [CASES[0], bad]})
    assert response.status_code == 422
    assert [d["index"] for d in response.get_json()["details"]] == [1]
    assert "atlantis" in response.get_json()["details"][0]["reason"]
    assert count(api.engine, Case) == 0


def test_tokens_and_scopes(api):
    assert api.post("cases", {"rows": CASES}, token="checkins").status_code == 403
    assert api.post("checkins", {"rows": CHECKINS}, token="cases").status_code == 403
    forbidden = api.post("cases", {"rows": CASES}, token="checkins").get_json()
    assert "terminal-qinzhou" in forbidden["error"] and forbidden["details"] == [
        "the client's scopes: checkins"
    ]

    missing = api.post("checkins", {"rows": CHECKINS}, token=None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in missing.get_json()["error"]
    token = api.tokens["both"]
    altered = token[:-1] + ("B" if token.endswith("A") else "A")
    for wrong in ("nonsense", altered, "ww_0000000000000000_" + "a" * 43, token.upper()):
        assert api.post("checkins", {"rows": CHECKINS}, token=wrong).status_code == 401, wrong
    basic = api.post("checkins", {"rows": CHECKINS}, token=None, headers={"Authorization": "Basic dXNlcg=="})
    assert basic.status_code == 401
    assert count(api.engine, LocationCheck) == 0 and count(api.engine, Case) == 0


def test_a_revoked_client_is_refused(api):
    from watchwall.dashboard.api_clients import revoke_client

    assert api.post("checkins", {"rows": CHECKINS[:1]}, token="checkins").status_code == 200
    revoke_client(api.engine, "terminal-qinzhou")
    refused = api.post("checkins", {"rows": CHECKINS[1:]}, token="checkins")
    assert refused.status_code == 401 and "revoked" in refused.get_json()["error"]
    assert count(api.engine, LocationCheck) == 1


def test_malformed_requests_get_clear_json_errors(api):
    auth = {"Authorization": f"Bearer {api.tokens['both']}"}
    client = api.client()

    def post(data, content_type="application/json", path="/api/v1/checkins"):
        return client.post(path, data=data, headers=auth, content_type=content_type)

    cases = {
        "broken JSON": (post(b'{"rows": [}'), 400, "malformed JSON"),
        "not UTF-8": (post(b'{"rows": "\xff"}'), 400, "malformed JSON"),
        "a list body": (post(b"[]"), 400, "JSON object"),
        "rows not a list": (post(b'{"rows": {}}'), 400, "array"),
        "keys beside rows": (post(b'{"rows": [], "dry_run": true}'), 400, "unknown key"),
        "no rows": (post(b'{"rows": []}'), 422, "no rows"),
        "form data": (post(b"a=1", "application/x-www-form-urlencoded"), 415, "application/json"),
        "text": (post(b"{}", "text/plain"), 415, "text/plain"),
    }
    for name, (response, status, words) in cases.items():
        assert response.status_code == status, (name, response.status_code, response.data)
        body = response.get_json()
        assert words in body["error"], (name, body)
        assert isinstance(body["details"], list), name


def test_too_large_bodies_and_too_many_rows_are_refused(api):
    from watchwall.dashboard.api import MAX_BODY_BYTES, MAX_ROWS

    padding = "x" * (MAX_BODY_BYTES + 10)
    large = api.post("checkins", {"rows": [dict(CHECKINS[0], external_id=padding)]})
    assert large.status_code == 413 and "larger than" in large.get_json()["error"]
    many = api.post("checkins", {"rows": [CHECKINS[0]] * (MAX_ROWS + 1)})
    assert many.status_code == 413 and f"at most {MAX_ROWS}" in many.get_json()["error"]
    assert count(api.engine, LocationCheck) == 0


def test_unknown_routes_and_methods_under_the_api_answer_json(api):
    client = api.client()
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]
    wrong_method = client.get("/api/v1/checkins")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]
    assert client.get("/elsewhere").mimetype == "text/html"  # outside the API the app's pages decide


def test_use_of_a_client_is_recorded(api):
    from watchwall.dashboard.api_clients import list_clients

    def used(name):
        return next(client for client in list_clients(api.engine) if client.name == name)

    assert used("platform").last_used_at is None and used("platform").use_count == 0
    for _ in range(2):
        assert api.post("cases", {"rows": CASES}, token="cases").status_code == 200
    assert api.post("checkins", {"rows": CHECKINS}, token="cases").status_code == 403
    assert used("platform").use_count == 3 and used("platform").last_used_at is not None
    assert used("both").use_count == 0


def test_an_unreachable_database_answers_503(api, tmp_path, refused_database_url):
    from watchwall.config.database import make_engine
    from watchwall.dashboard.context import AppContext

    from .conftest import build_app

    engine = make_engine(refused_database_url, check=False)
    context = AppContext(settings=api.context.settings, site=api.context.site, engine=engine)
    try:
        response = (
            build_app(context)
            .test_client()
            .post(
                "/api/v1/checkins",
                json={"rows": CHECKINS},
                headers={"Authorization": f"Bearer {api.tokens['both']}"},
            )
        )
    finally:
        engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"error": "the database is unavailable; try again later", "details": []}
