"""Roles and counties enforced server-side: every route, callback and socket join, tried as another county."""

from __future__ import annotations

import json

import pytest
import socketio

from watchwall.config.settings import DEMO_SITE
from watchwall.config.site import load_site
from watchwall.dashboard import access
from watchwall.dashboard.accounts import Principal

SITE = load_site(DEMO_SITE)
QINZHOU_CAMERA = next(place.camera.id for place in SITE.cameras() if place.centre.code == "qinzhou")
MAIJI_CAMERA = next(place.camera.id for place in SITE.cameras() if place.centre.code == "maiji")


def test_decisions_per_role():
    command = Principal("c", "city_command")
    supervisor = Principal("s", "county_supervisor", ("qinzhou",))
    inspector = Principal("i", "inspector", ("qinan",))
    roving_inspector = Principal("r", "inspector")
    admin = Principal("a", "admin")
    assert access.can_see_wall(command) and not access.can_see_wall(supervisor)
    assert access.can_watch_live(supervisor, "qinzhou") and not access.can_watch_live(supervisor, "maiji")
    assert access.can_move_camera(supervisor, "qinzhou") and not access.can_move_camera(command, "qinzhou")
    assert not access.can_watch_live(inspector, "qinan")
    assert access.can_export(inspector, "qinan") and not access.can_export(inspector, "qinzhou")
    assert access.can_export(roving_inspector, "qinzhou") and not access.can_export(supervisor, "qinzhou")
    assert access.visible_centres(supervisor, SITE) == ["qinzhou"]
    assert len(access.visible_centres(command, SITE)) == 8
    assert access.can_administer(admin) and not access.can_administer(command)
    assert access.home_page(supervisor) == "/centres/qinzhou"
    assert access.home_page(inspector) == "/recordings" and access.home_page(command) == "/wall"


def test_anonymous_requests_are_sent_to_the_login_page(served):
    import requests

    page = requests.get(
        f"{served.url}/wall", headers={"Accept": "text/html"}, allow_redirects=False, timeout=10
    )
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/wall")
    for path in ("/wall", f"/live/{QINZHOU_CAMERA}", f"/snapshot/{QINZHOU_CAMERA}.jpg", "/_dash-layout"):
        assert requests.get(f"{served.url}{path}", timeout=10).status_code == 401, path


def test_login_sets_a_hardened_cookie_and_is_audited(served, http_login):
    session = http_login(served, "command")
    response = session.last_login_response
    assert response.status_code == 302 and response.headers["Location"] == "/wall"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    listing = served.cli("audit", "list", "--json", "--action", "login")
    assert listing.returncode == 0, listing.stderr
    entries = [json.loads(line) for line in listing.stdout.splitlines() if line.strip()]
    assert any(entry["target"] == "command" for entry in entries)
    assert served.cli("audit", "verify").returncode == 0


def test_wrong_passwords_are_rate_limited(served, http_login):
    statuses = [
        http_login(served, "sup-qingshui", "wrong password!").last_login_response.status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # even the right password waits out the window: no guessing around the limit
    assert http_login(served, "sup-qingshui").last_login_response.status_code == 429


def test_state_changing_requests_from_another_site_are_refused(served, http_login):
    session = http_login(served, "command")
    refused = session.post(f"{served.url}/logout", headers={"Origin": "http://evil.example"}, timeout=10)
    assert refused.status_code == 403
    assert (
        session.post(f"{served.url}/logout", timeout=10, allow_redirects=False).status_code == 403
    )  # no origin
    assert session.get(f"{served.url}/wall", headers={"Accept": "text/html"}, timeout=10).status_code == 200


def app_routes(served) -> list[str]:
    """Every URL rule of the real app, from Flask's own map (built in this process on a scratch database)."""
    from watchwall.config.database import make_engine, upgrade
    from watchwall.config.settings import Settings
    from watchwall.dashboard.app import create_app
    from watchwall.dashboard.context import AppContext

    data_dir = served.log_path.parent / "routes"
    data_dir.mkdir(exist_ok=True)
    url = f"sqlite:///{data_dir / 'r.db'}"
    upgrade(url)
    settings = Settings(data_dir=data_dir)
    app = create_app(AppContext(settings=settings, site=SITE, engine=make_engine(url)))
    return sorted({rule.rule for rule in app.server.url_map.iter_rules()})


def fill(rule: str) -> str:
    return (
        rule.replace("<camera_id>", QINZHOU_CAMERA)
        .replace("<code>", "qinzhou")
        .replace("<int:incident_id>", "1")
        .replace("<int:call_id>", "1")
        .replace("<int:video_id>", "1")
        .replace("<report_id>", "qinzhou-daily-2026-12-03-zh-CN.pdf")
        .replace("<path:filename>", "wall.css")
        .replace("<path:path>", "centres/qinzhou")
        .replace("<string:package_name>/<path:fingerprinted_path>", "dash/dcc/async-graph.js")
    )


def test_every_route_refuses_a_supervisor_of_another_county(served, http_login):
    session = http_login(served, "sup-maiji")
    routes = app_routes(served)
    assert "/live/<camera_id>" in routes and "/snapshot/<camera_id>.jpg" in routes
    for path in ["/wall", "/centres/qinzhou", f"/live/{QINZHOU_CAMERA}", f"/snapshot/{QINZHOU_CAMERA}.jpg"]:
        assert session.get(f"{served.url}{path}", timeout=10).status_code == 403, path
    leaked = []
    for rule in routes:
        path = fill(rule)
        if "<" in path:
            leaked.append(f"{rule}: unfilled variable")
            continue
        response = session.get(f"{served.url}{path}", timeout=10)
        body = response.text
        if response.status_code == 200 and ("qinzhou" in path and not path.startswith("/assets/")):
            leaked.append(f"{path}: 200")
        if "秦州区" in body and not path.startswith(("/assets/", "/_dash-component-suites/")):
            leaked.append(f"{path}: names qinzhou data")
    assert leaked == []
    # the supervisor's own county is open
    assert session.get(f"{served.url}/snapshot/{MAIJI_CAMERA}.jpg", timeout=10).status_code in (200, 404)


# pages a county supervisor opens for their own county (their callbacks refuse other counties' data)
OWN_COUNTY_PAGES = ("incidents-", "incident-", "reports-", "report-", "rollcall-", "rec-")

# WS-Discovery multicasts: never from a test outside its own network namespace (tests/cameras does that)
NOT_REPLAYED = {"discover-result.children"}

# what a page would send: Dash's page router gets the wall's path, buttons a click, pickers a real choice
VALUES_BY_PROPERTY = {"pathname": "/wall", "search": "", "hash": "", "href": "/wall", "n_clicks": 1}
VALUES_BY_ID = {
    "centre-code": "qinzhou",
    "centre-camera": QINZHOU_CAMERA,
    "rec-centre": "qinzhou",
    "rec-room": "checkin",
    "rec-camera": QINZHOU_CAMERA,
    "rec-day": "2026-11-20",
    "rec-export-reason": "access test",
    "rec-initial": None,
    "rec-audit-action": None,
    "rec-audit-actor": None,
    "rec-timeline": None,
    "ptz-preset": None,
    "ptz-preset-name": None,
    "rollcall-centres": ["qinzhou"],  # a supervisor of maiji calling qinzhou is refused by name
    "rollcall-filter-county": None,
    "rollcall-filter-day": None,
    "rollcall-filter-result": None,
}


def dependency(item: dict):
    if item["id"].startswith("{"):  # a pattern-matching (ALL) id: no such component on this page
        return []
    value = VALUES_BY_ID.get(item["id"], VALUES_BY_PROPERTY.get(item["property"], "en"))
    return {"id": item["id"], "property": item["property"], "value": value}


def outputs_of(output: str):
    if not output.startswith(".."):
        component, prop = output.rsplit(".", 1)
        return [] if component.startswith("{") else {"id": component, "property": prop}
    parts = [part for part in output.strip(".").split("...") if part]
    result = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        result.append([] if component.startswith("{") else {"id": component, "property": prop})
    return result


def test_every_callback_refuses_roles_that_may_not_use_it(served, http_login):
    supervisor = http_login(served, "sup-maiji")
    admin = http_login(served, "admin")  # the role allowed every callback
    callbacks = admin.get(f"{served.url}/_dash-dependencies", timeout=10).json()
    server_side = [callback for callback in callbacks if not callback.get("clientside_function")]
    assert len(server_side) >= 8
    headers = {"Origin": served.url, "Content-Type": "application/json"}
    for callback in server_side:
        first = callback["inputs"][0]
        body = {
            "output": callback["output"],
            "outputs": outputs_of(callback["output"]),
            "inputs": [dependency(item) for item in callback["inputs"]],
            "state": [dependency(item) for item in callback["state"]],
            "changedPropIds": [f"{first['id']}.{first['property']}"],
        }
        refused = supervisor.post(
            f"{served.url}/_dash-update-component", json=body, headers=headers, timeout=30
        )
        if callback["output"].lstrip(".").startswith(OWN_COUNTY_PAGES):
            # a page the supervisor uses for their own county: the other county's data is refused
            # in the answer itself (a 403, or the page's refusal message), never shown
            assert refused.status_code in (200, 204, 403), (callback["output"], refused.status_code)
            assert (
                "qinzhou" not in refused.text.replace("'qinzhou'", "")
                or "not one you may see" in refused.text
            )
        else:
            assert refused.status_code == 403, (callback["output"], refused.status_code, refused.text[:200])
        assert "秦州区" not in refused.text
        if (
            callback["output"] in NOT_REPLAYED
            or first["id"].startswith("{")
            or "{" in callback["output"]
            or "@" in callback["output"]
        ):
            continue
        allowed = admin.post(f"{served.url}/_dash-update-component", json=body, headers=headers, timeout=60)
        assert allowed.status_code in (200, 204), (callback["output"], allowed.text[:300])


def test_socket_joins_are_limited_to_the_users_county(served, http_login):
    session = http_login(served, "sup-maiji")
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    client = socketio.Client(reconnection=False)
    snapshots = []
    client.on("camera.snapshot", snapshots.append)
    client.connect(
        served.url, headers={"Cookie": cookie, "Origin": served.url}, transports=["polling"], wait_timeout=10
    )
    try:
        assert client.call("join", {"centre": "qinzhou"}, timeout=10) == {"ok": False, "error": "forbidden"}
        assert client.call("join", {"centre": "maiji"}, timeout=10) == {"ok": True}
    finally:
        client.disconnect()
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(served.url, transports=["polling"], wait_timeout=10)
