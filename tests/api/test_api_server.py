"""End to end over real HTTP: werkzeug's threaded server on a loopback port, standard-library clients."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from sqlalchemy import func, select

from watchwall.dashboard.api import MAX_BODY_BYTES
from watchwall.metrics.models import LocationCheck

from .rows import CHECKINS


def request(url: str, body: bytes | None = None, headers: dict | None = None, method: str | None = None):
    """(status, headers, parsed JSON or text) of one request."""
    call = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(call, timeout=20) as response:
            status, answer_headers, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, data = error.code, error.headers, error.read()
    if answer_headers.get_content_type() == "application/json":
        return status, answer_headers, json.loads(data)
    return status, answer_headers, data.decode()


def post_json(url: str, token: str, payload) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    status, _, body = request(url, json.dumps(payload, ensure_ascii=False).encode(), headers)
    return status, body


def test_post_repost_and_errors_over_http(api, served):
    token = api.tokens["checkins"]
    assert post_json(f"{served}/api/v1/checkins", token, {"rows": CHECKINS}) == (
        200,
        {
            "rows": 3,
            "new": 3,
            "updated": 0,
            "unchanged": 0,
            "changed": True,
            "message": "3 rows: 3 new, 0 updated, 0 unchanged",
        },
    )
    status, body = post_json(f"{served}/api/v1/checkins", token, {"rows": CHECKINS})
    assert (status, body["unchanged"], body["changed"]) == (200, 3, False)
    assert post_json(f"{served}/api/v1/cases", token, {"rows": []})[0] == 403
    assert post_json(f"{served}/api/v1/checkins", "ww_nope", {"rows": CHECKINS})[0] == 401
    status, _, body = request(
        f"{served}/api/v1/checkins",
        b"{",
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert status == 400 and body["error"] == "malformed JSON"


def test_concurrent_posts_of_the_same_new_rows_write_each_row_once(api, served):
    token = api.tokens["both"]
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def post():
        outcome = post_json(f"{served}/api/v1/checkins", token, {"rows": CHECKINS})
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 4, results
    assert all(status in (200, 409) for status, _ in results), results
    assert sum(body.get("new", 0) for status, body in results if status == 200) == 3
    with api.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(LocationCheck)).scalar_one() == 3


def test_a_chunked_body_without_length_is_cut_at_the_limit(api, served):
    address = urlsplit(served)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    chunk = b" " * (256 * 1024)
    chunks = [b'{"rows": [', *([chunk] * (MAX_BODY_BYTES // len(chunk) + 1)), b"]}"]
    try:
        connection.request(
            "POST",
            "/api/v1/checkins",
            body=iter(chunks),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.tokens['both']}"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        status, body = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert status == 413 and "larger than" in body["error"]


def test_metrics_and_openapi_over_http(api, served):
    status, headers, text = request(f"{served}/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "watchwall_ingest_running 0.0" in text
    status, _, document = request(f"{served}/api/v1/openapi.json")
    assert status == 200 and document["openapi"] == "3.1.0"
