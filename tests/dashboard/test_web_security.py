"""Issue 13 B, the web side against a determined attacker: one test per point, on the real app in
this process (Flask's test client through the whole WSGI stack) and its real CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import statistics
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text, update

from tests.dashboard.websec_app import (
    BASE,
    PASSWORD,
    PROXY,
    WebApp,
    build,
    camera_of,
    environ,
    log_in,
    session_cookie,
    status_with_cookie,
)
from watchwall.audit.listing import AuditEntry, AuditHead, append, entry_hash, list_entries, verify_chain
from watchwall.cameras.inventory import NewCamera, add_camera
from watchwall.config.errors import UserError
from watchwall.config.settings import reset_settings_cache
from watchwall.dashboard.accounts import authenticate, set_active
from watchwall.dashboard.api_clients import add_client

USERS = {
    "alice": ("city_command", []),
    "bob": ("city_command", []),
    "carol": ("city_command", []),
    "root": ("admin", []),
    "insp-qinzhou": ("inspector", ["qinzhou"]),
    "roving": ("inspector", []),
    "dora": ("city_command", []),
    "eve-disabled": ("city_command", []),
}
JSON = {"Origin": BASE, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[WebApp]:
    folder = tmp_path_factory.mktemp("websec")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WATCHWALL_DATA_DIR", str(folder))  # the audit anchor key of this installation
        reset_settings_cache()
        web = build(folder, USERS)
        yield web
        web.engine.dispose()
    reset_settings_cache()


def rows(web: WebApp, action: str, actor: str | None = None) -> list[AuditEntry]:
    return list_entries(web.engine, action=action, actor=actor, limit=500)


def dash_callback(web: WebApp, client, has_input: str) -> dict:
    """The body that fires the admin page's callback with input ``has_input``, as a browser sends it."""
    callbacks = client.get("/_dash-dependencies", base_url=BASE).get_json()
    callback = next(c for c in callbacks if any(i["id"] == has_input for i in c["inputs"]))
    outputs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
        for part in callback["output"].strip(".").split("...")
    ]
    return {"output": callback["output"], "outputs": outputs, "callback": callback}


# 1. Sessions that can be revoked ---------------------------------------------------------------


def test_sessions_end_at_logout_password_change_disable_and_remove(web):
    client, response = log_in(web, "alice")
    assert response.status_code == 302
    stolen = session_cookie(client)
    assert status_with_cookie(web, stolen) == 200
    client.post("/logout", base_url=BASE, headers={"Origin": BASE})
    assert status_with_cookie(web, stolen) == 401, "a cookie copied before logout still works"

    client, _ = log_in(web, "alice")
    stolen = session_cookie(client)
    changed = web.cli(
        "user", "passwd", "alice", "--password-env", "NEW_PW", env={"NEW_PW": "another long secret"}
    )
    assert changed.returncode == 0, changed.stderr
    assert "1 session(s) ended" in changed.stdout
    assert status_with_cookie(web, stolen) == 401, "a session outlives the password change"
    assert log_in(web, "alice")[1].status_code == 401
    client, response = log_in(web, "alice", "another long secret")
    assert response.status_code == 302
    stolen = session_cookie(client)

    assert web.cli("user", "disable", "alice").returncode == 0
    assert status_with_cookie(web, stolen) == 401
    assert log_in(web, "alice", "another long secret")[1].status_code == 401
    assert web.cli("user", "enable", "alice").returncode == 0
    client, response = log_in(web, "alice", "another long secret")
    assert response.status_code == 302
    stolen = session_cookie(client)
    assert web.cli("user", "remove", "alice").returncode == 0
    web.add_user("alice", "admin")  # a new user under the same name
    assert status_with_cookie(web, stolen) == 401, "a removed user's cookie works for the new alice"
    assert status_with_cookie(web, stolen, "/admin") == 401
    changes = [json.loads(e.detail) for e in rows(web, "user_change") if e.target == "alice"]
    assert {key for detail in changes for key in detail} >= {"password", "disabled", "enabled", "removed"}
    assert all(e.actor.startswith("cli:") for e in rows(web, "user_change") if e.target == "alice")

    # the same from /admin: an administrator disables bob; bob's open session ends, audited
    bob, _ = log_in(web, "bob")
    bob_cookie = session_cookie(bob)
    admin, _ = log_in(web, "root")
    spec = dash_callback(web, admin, "user-disable")
    callback = spec["callback"]
    body = {
        "output": spec["output"],
        "outputs": spec["outputs"],
        "inputs": [
            {"id": i["id"], "property": i["property"], "value": 1 if i["id"] == "user-disable" else None}
            for i in callback["inputs"]
        ],
        "state": [
            {
                "id": s["id"],
                "property": s["property"],
                "value": {"user-pick": "bob", "admin-language": "en"}.get(s["id"]),
            }
            for s in callback["state"]
        ],
        "changedPropIds": ["user-disable.n_clicks"],
    }
    answer = admin.post("/_dash-update-component", base_url=BASE, json=body, headers={"Origin": BASE})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert "1 session(s) ended" in answer.get_data(as_text=True)
    assert status_with_cookie(web, bob_cookie) == 401
    assert any(e.actor == "root" and e.target == "bob" for e in rows(web, "user_change"))
    refused = bob.post("/_dash-update-component", base_url=BASE, json=body, headers={"Origin": BASE})
    assert refused.status_code == 401


# 2. Cookies and proxies ------------------------------------------------------------------------


def test_only_trusted_proxies_set_the_client_address_and_the_cookie_is_secure(web):
    forwarded = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    _, response = log_in(web, "carol", address=PROXY, headers=forwarded)
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert rows(web, "login", "carol")[0].address == "198.51.100.7"

    # a spoofed header from an address that is not a trusted proxy is ignored
    log_in(web, "carol", "wrong password!", address="127.0.0.1", headers={"X-Forwarded-For": "203.0.113.5"})
    failed = [e for e in rows(web, "login_failed") if e.target == "carol"]
    assert failed[0].address == "127.0.0.1"

    client = web.client()

    def metrics(peer: str, forwarded_for: str) -> int:
        return client.get(
            "/metrics", base_url=BASE, environ_base=environ(peer), headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    assert metrics(PROXY, "198.51.100.7") == 403  # an outside client through the proxy
    assert metrics(PROXY, "127.0.0.1") == 200  # Prometheus on the proxy's host
    assert metrics("192.0.2.1", "127.0.0.1") == 403  # claiming loopback from outside
    assert metrics("127.0.0.1", "198.51.100.7") == 200  # loopback is loopback whatever it claims


# 3. Security headers on every response (the browser side: test_web_security_browser.py) --------


def test_every_response_carries_the_security_headers(web):
    client, _ = log_in(web, "dora")
    anonymous = web.client()
    responses = {
        "login page": anonymous.get("/login", base_url=BASE),
        "page": client.get("/wall", base_url=BASE, headers={"Accept": "text/html"}),
        "asset": anonymous.get("/assets/login.css", base_url=BASE),
        "api": anonymous.get("/api/v1/openapi.json", base_url=BASE),
        "404": client.get("/nothing-here", base_url=BASE),
        "socket.io": anonymous.get("/socket.io/?EIO=4&transport=polling", base_url=BASE),
    }
    for name, response in responses.items():
        headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ") if part}
        assert "'unsafe-inline'" not in directives.get("script-src", ["'unsafe-inline'"]), name
        assert "'unsafe-eval'" not in directives["script-src"], name
        assert directives["frame-ancestors"] == ["'none'"], name
        assert headers.get("X-Frame-Options") == "DENY", name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("Referrer-Policy") in (
            "same-origin",
            "no-referrer",
            "strict-origin-when-cross-origin",
        )
        assert not re.search(r"\d|werkzeug|python", headers.get("Server", "").lower()), name
    # every inline script of a page (Dash's renderer, clientside callbacks) is allowed by its hash
    page = re.sub(r"<!--.*?-->", "", responses["page"].get_data(as_text=True), flags=re.S)  # IE's comment
    inline = [
        body
        for attributes, body in re.findall(r"<script(\b[^>]*)>(.*?)</script>", page, flags=re.S)
        if "src=" not in attributes and "application/json" not in attributes
    ]
    assert inline, "Dash's page has its renderer inline"
    policy = responses["page"].headers["Content-Security-Policy"]
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy, body[:80]


# 4 and 5. WebSocket origins and anonymous engine.io sessions: test_web_security_served.py --------


# 6. Audit completeness: the inspector's view (playback and live: test_web_security_served.py) ----


def test_an_inspector_sees_the_audit_rows_of_their_counties_only(web):
    qinzhou, maiji = camera_of("qinzhou"), camera_of("maiji")
    append(web.engine, actor="someone", action="playback", target=qinzhou, detail={"span": 1})
    append(web.engine, actor="someone", action="playback", target=maiji, detail={"span": 2})
    append(
        web.engine,
        actor="someone",
        action="live_view",
        target="2 cameras",
        detail={"cameras": [maiji, qinzhou]},
    )
    log_in(web, "secret-admin-name", "wrong password!", address="192.0.2.60")

    def audit_trail(username: str) -> str:
        client, _ = log_in(web, username)
        spec = dash_callback(web, client, "rec-audit-refresh")
        callback = spec["callback"]
        body = {
            "output": spec["output"],
            "outputs": spec["outputs"],
            "inputs": [{"id": i["id"], "property": i["property"], "value": None} for i in callback["inputs"]],
            "state": [{"id": s["id"], "property": s["property"], "value": "en"} for s in callback["state"]],
            "changedPropIds": ["rec-audit-refresh.n_clicks"],
        }
        answer = client.post("/_dash-update-component", base_url=BASE, json=body, headers={"Origin": BASE})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        return answer.get_data(as_text=True)

    county = audit_trail("insp-qinzhou")
    assert qinzhou in county and maiji not in county
    assert "secret-admin-name" not in county and "login_failed" not in county
    roving = audit_trail("roving")
    assert maiji in roving and qinzhou in roving
    assert "secret-admin-name" not in roving  # failed-login names: administrators only
    assert "secret-admin-name" in audit_trail("root")


# 7. An anchored audit chain -------------------------------------------------------------------


def test_a_recomputed_audit_chain_is_named(web):
    for index in range(3):
        append(web.engine, actor="anchor-test", action="export", target=f"cam{index}")
    assert verify_chain(web.engine) == []
    # Someone with database access edits a row and recomputes every later hash, as verify did it.
    with web.engine.begin() as connection:
        victim = (
            connection.execute(
                select(AuditEntry.id).where(AuditEntry.actor == "anchor-test").order_by(AuditEntry.id)
            )
            .scalars()
            .first()
        )
        connection.execute(update(AuditEntry).where(AuditEntry.id == victim).values(actor="nobody"))
        previous = connection.execute(
            select(AuditEntry.entry_hash).where(AuditEntry.id == victim - 1)
        ).scalar()
        for row in (
            connection.execute(
                select(AuditEntry.__table__).where(AuditEntry.id >= victim).order_by(AuditEntry.id)
            )
            .mappings()
            .all()
        ):
            fields = {k: row[k] for k in ("id", "at", "actor", "action", "target", "detail", "address")}
            new_hash = entry_hash(**fields, prev_hash=previous)
            connection.execute(
                update(AuditEntry)
                .where(AuditEntry.id == row["id"])
                .values(prev_hash=previous, entry_hash=new_hash)
            )
            previous, last_id = new_hash, row["id"]
        connection.execute(update(AuditHead).values(last_id=last_id, last_hash=previous))
    breaks = verify_chain(web.engine)
    assert breaks and breaks[0].entry_id == victim and "recomputed chain" in breaks[0].problem
    verdict = web.cli("audit", "verify")
    assert verdict.returncode == 1, verdict.stdout + verdict.stderr
    assert "RECOMPUTED" in verdict.stdout and f"row {victim}" in verdict.stdout
    with web.engine.begin() as connection:  # leave an intact log for the other tests of this module
        connection.execute(text("DELETE FROM audit_log"))
        connection.execute(update(AuditHead).values(last_id=0, last_hash="0" * 64))


# 8. Login abuse -------------------------------------------------------------------------------


def test_lockout_is_per_user_and_address_and_a_disabled_account_answers_like_a_wrong_password(web):
    statuses = [log_in(web, "root", "wrong password!", address="10.0.0.1")[1].status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    locked = log_in(web, "root", address="10.0.0.1")[1]
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 30
    # the administrator at their own desk is not locked out by someone else's guessing
    assert log_in(web, "root", address="10.0.0.2")[1].status_code == 302

    set_active(web.engine, "eve-disabled", False)
    disabled, wrong = [], []
    for _ in range(7):  # side by side, so the machine's load weighs on both alike
        started = time.perf_counter()
        assert authenticate(web.engine, "eve-disabled", PASSWORD) is None
        disabled.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert authenticate(web.engine, "dora", "wrong password!") is None
        wrong.append(time.perf_counter() - started)
    ratio = statistics.median(disabled) / statistics.median(wrong)
    assert ratio > 0.5, f"a disabled account answers {ratio:.2f} times as fast as a wrong password"


# 9. Errors are clear 4xx, never 500 -----------------------------------------------------------


def test_hostile_input_gets_a_clear_4xx(web):
    client, _ = log_in(web, "roving")
    camera = camera_of("qinzhou")
    for at in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+08:00", "0001-01-01T00:00:00"):
        answer = client.get(f"/recordings/seek/{camera}", query_string={"at": at}, base_url=BASE)
        assert answer.status_code == 400 and "'at'" in answer.get_json()["error"], (at, answer.status_code)
    page = client.get(
        f"/recordings/seek/{camera}",
        query_string={"at": "9999-01-01"},
        base_url=BASE,
        headers={"Accept": "text/html"},
    )
    assert (
        page.status_code == 400
        and page.mimetype == "text/html"
        and "<h1>400</h1>" in page.get_data(as_text=True)
    )

    good = {
        "camera": camera,
        "from": "2026-11-20T09:00:00+08:00",
        "to": "2026-11-20T09:01:00+08:00",
        "reason": "x",
    }
    for field, value in (
        ("camera", 5),
        ("from", [1, 2]),
        ("to", 20261120),
        ("reason", {"a": 1}),
        ("reason", ["x"]),
    ):
        answer = client.post(
            "/recordings/export", base_url=BASE, json={**good, field: value}, headers={"Origin": BASE}
        )
        assert answer.status_code == 400 and field in answer.get_json()["error"], (field, answer.status_code)
    listed = client.post("/recordings/export", base_url=BASE, json=[good], headers={"Origin": BASE})
    assert listed.status_code == 400

    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/_dash-update-component", "/recordings/export"):
        answer = client.post(path, base_url=BASE, data=deep, headers=JSON)
        assert answer.status_code == 400 and "nested" in answer.get_json()["error"], path
    surrogate = json.dumps({**good, "reason": "@"}).replace('"@"', '"\\ud800"')  # a lone \ud800 escape
    answer = client.post("/recordings/export", base_url=BASE, data=surrogate, headers=JSON)
    assert answer.status_code == 400 and "surrogate" in answer.get_json()["error"]

    token = add_client(web.engine, "terminal-websec", ["checkins", "cases"])[1]
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    answer = web.client().post("/api/v1/checkins", base_url=BASE, data=deep, headers=api)
    assert answer.status_code == 400 and "nested" in answer.get_json()["error"]
    lone = '{"rows": [{"external_id": "C-\\ud800", "subject": "S-0001", "checked_at": "2024-05-01T08:00:00+08:00", "method": "dingtalk", "result": "ok"}]}'
    answer = web.client().post("/api/v1/checkins", base_url=BASE, data=lone, headers=api)
    assert answer.status_code == 400 and "surrogate" in answer.get_json()["error"], answer.get_data(
        as_text=True
    )
    year_one = {
        "external_id": "C-1",
        "subject": "S-0001",
        "checked_at": "0001-01-01T00:00:00+08:00",
        "method": "dingtalk",
        "result": "ok",
    }
    answer = web.client().post("/api/v1/checkins", base_url=BASE, json={"rows": [year_one]}, headers=api)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert (
        answer.get_json()["details"][0]["index"] == 0
        and "checked_at" in answer.get_json()["details"][0]["reason"]
    )


# 10. Plausible values only --------------------------------------------------------------------


def test_implausible_dates_and_control_characters_are_refused(web, tmp_path):
    csv_file = tmp_path / "checkins.csv"
    csv_file.write_text(
        "external_id,subject,checked_at,method,result\n"
        "C-OK,S-0001,2024-05-01T08:00:00+08:00,dingtalk,ok\n"
        "C-OLD,S-0001,1999-12-31T08:00:00+08:00,dingtalk,ok\n"
        "C-FUTURE,S-0001,2099-01-01T08:00:00+08:00,dingtalk,ok\n"
        "C-NUL\x00,S-0001,2024-05-01T09:00:00+08:00,dingtalk,ok\n"
        "C-BIDI\u202e,S-0001,2024-05-01T10:00:00+08:00,dingtalk,ok\n",
        encoding="utf-8",
    )
    refused = web.cli("import", "checkins", str(csv_file))
    assert refused.returncode != 0
    assert "line 3: checked_at" in refused.stderr and "before 2000" in refused.stderr
    assert "line 4: checked_at" in refused.stderr and "future" in refused.stderr
    assert "line 5: external_id: control character U+0000" in refused.stderr
    assert "line 6: external_id: control character U+202E" in refused.stderr

    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        json.dumps(
            {
                "external_id": "K-1",
                "case_type": "correction_reception",
                "source_agency": "court",
                "county": "qinzhou",
                "received_at": "1990-01-01T00:00:00+08:00",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    refused = web.cli("import", "cases", str(cases))
    assert refused.returncode != 0 and "line 1: received_at" in refused.stderr

    client, _ = log_in(web, "roving")
    export = {
        "camera": camera_of("qinzhou"),
        "from": "2026-11-20T09:00:00+08:00",
        "to": "2026-11-20T09:01:00+08:00",
        "reason": "case 12\u202e3",
    }
    answer = client.post("/recordings/export", base_url=BASE, json=export, headers={"Origin": BASE})
    assert answer.status_code == 400 and "U+202E" in answer.get_json()["error"]

    bidi_name = NewCamera("qinzhou-new", "qinzhou", "checkin", "door\u202ecam", "127.0.0.1", 1)
    with pytest.raises(UserError, match="U\\+202E"):
        add_camera(web.engine, bidi_name)  # refused before any camera is asked

    append(web.engine, actor="x\x1b[31my", action="login_failed", target="evil\u202eeman\x00")
    listing = web.cli("audit", "list", "--limit", "5")
    as_json = web.cli("audit", "list", "--limit", "5", "--json")
    for output in (listing.stdout, as_json.stdout):
        assert not any(char in output for char in ("\x1b", "\u202e", "\x00")), repr(output)
    assert "\\u202e" in listing.stdout and "\\x1b" in listing.stdout
