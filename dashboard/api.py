"""The data-intake REST API: ``POST /api/v1/checkins`` and ``/api/v1/cases``, and its OpenAPI document.

A request carries ``{"rows": [...]}`` (or one row object) and a client's token
(``Authorization: Bearer ww_...``, see :mod:`watchwall.dashboard.api_clients`). The rows are validated
whole by the same code as ``watchwall import`` (:mod:`watchwall.metrics.import_rows`): any bad row refuses
the request (422, every bad row's index and reason) and nothing is written. Rows are upserted by
``external_id``, so posting the same rows again changes nothing and the answer says so.

Every error is JSON ``{"error": "...", "details": [...]}`` with its status code:
400 malformed JSON or body (also: nested deeper than 64, a lone surrogate), 401 missing/unknown token, 403 scope, 404/405 route, 413 too large,
415 not ``application/json``, 422 invalid rows, 503 database unreachable.
"""

from __future__ import annotations

import logging

import flask
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from watchwall.dashboard import json_body
from watchwall.dashboard.api_clients import ApiCaller, authenticate_token
from watchwall.dashboard.checkin_video_intake import VideoCheckinLinks
from watchwall.dashboard.context import current
from watchwall.dashboard.openapi import MAX_BODY_BYTES, MAX_ROWS
from watchwall.dashboard.openapi import openapi_document as build_openapi_document
from watchwall.dashboard.prometheus import count_api_request
from watchwall.metrics.import_rows import RawRow
from watchwall.metrics.importer import ImportRefused, import_rows

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
WRITE_ATTEMPTS = 3  # a concurrent request inserting the same new ids makes the first attempt collide

api = flask.Blueprint("api_v1", __name__, url_prefix=PREFIX)


class ApiError(Exception):
    def __init__(self, status: int, error: str, details: list | None = None, headers: dict | None = None):
        super().__init__(error)
        self.status, self.error, self.details, self.headers = status, error, details or [], headers or {}


def error_response(status: int, error: str, details: list | None = None, headers: dict | None = None):
    response = flask.jsonify({"error": error, "details": details or []})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _caller(scope: str) -> ApiCaller:
    challenge = {"WWW-Authenticate": 'Bearer realm="watchwall"'}
    header = flask.request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing API token: send 'Authorization: Bearer <token>'", headers=challenge)
    caller = authenticate_token(current().engine, token.strip())
    if caller is None:
        raise ApiError(401, "unknown or revoked API token", headers=challenge)
    if not caller.may(scope):
        raise ApiError(
            403,
            f"API client {caller.name!r} may not post {scope}",
            [f"the client's scopes: {', '.join(caller.scopes)}"],
        )
    return caller


def _body() -> object:
    if flask.request.mimetype != "application/json":
        shown = flask.request.mimetype or "none"
        raise ApiError(415, f"content type {shown!r} is not accepted; send application/json")
    length = flask.request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise ApiError(413, f"request body of {length} bytes is larger than {MAX_BODY_BYTES} bytes")
    data = flask.request.stream.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return json_body.parse(data)
    except json_body.BadJson as exc:
        raise ApiError(400, exc.error, exc.details) from None


def _rows(body: object) -> list[RawRow]:
    """The body's rows as (index, values); a row that is not an object is a bad row, named by index."""
    if not isinstance(body, dict):
        raise ApiError(400, 'the body must be a JSON object: {"rows": [...]} or one row')
    rows = body["rows"] if "rows" in body else [body]
    if "rows" in body and len(body) > 1:
        raise ApiError(400, "unknown key(s) beside rows", sorted(key for key in body if key != "rows"))
    if not isinstance(rows, list):
        raise ApiError(400, '"rows" must be a JSON array')
    if not rows:
        raise ApiError(422, "no rows", ['"rows" is empty'])
    if len(rows) > MAX_ROWS:
        raise ApiError(413, f"{len(rows)} rows in one request; send at most {MAX_ROWS}")
    return [
        RawRow(index, values if isinstance(values, dict) else {"__error__": "not a JSON object"})
        for index, values in enumerate(rows)
    ]


def _write(what: str, rows: list[RawRow]):
    context = current()
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return import_rows(
                context.engine,
                what,
                rows,
                context.settings.zone,
                source=f"POST {PREFIX}/{what}",
                checkin_links=VideoCheckinLinks(lambda: context.site, context.settings.checkin_video),
            )
        except ImportRefused as exc:
            details = [{"index": index, "reason": reason} for index, reason in exc.problems]
            raise ApiError(422, f"{len(details)} invalid row(s); nothing was written", details) from None
        except (IntegrityError, context.engine.dialect.dbapi.IntegrityError):  # bulk COPY raises the driver's
            if attempt == WRITE_ATTEMPTS:
                raise ApiError(409, "a concurrent request wrote the same rows; post again") from None
    raise AssertionError("unreachable")


def _intake(what: str):
    caller = _caller(what)
    rows = _rows(_body())
    report = _write(what, rows)
    log.info("API client %s posted %s: %s", caller.name, what, report)
    return flask.jsonify(
        {
            "rows": report.rows,
            "new": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "changed": bool(report.inserted or report.updated),
            "message": str(report),
        }
    )


@api.post("/checkins")
def post_checkins():
    return _intake("checkins")


@api.post("/cases")
def post_cases():
    return _intake("cases")


@api.get("/openapi.json")
def openapi_document():
    return flask.jsonify(build_openapi_document())


@api.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.error, exc.details, exc.headers)


@api.errorhandler(OperationalError)
def _database_away(exc: OperationalError):
    log.warning("API request failed on the database: %s", str(exc.orig or exc).splitlines()[0])
    return error_response(503, "the database is unavailable; try again later")


def _json_http_errors(server: flask.Flask, code: int):
    """Routing errors (404, 405) under the API prefix answer JSON; elsewhere the app's own handler, if any."""
    previous = server.error_handler_spec.get(None, {}).get(code, {})
    fallback = next(iter(previous.values()), None)

    def handle(exc: HTTPException):
        if flask.request.path.startswith(PREFIX + "/"):
            return error_response(exc.code or code, exc.description or exc.name)
        return fallback(exc) if fallback is not None else exc

    return handle


def _count(response: flask.Response) -> flask.Response:
    if flask.request.path.startswith(PREFIX + "/"):
        rule = flask.request.url_rule.rule if flask.request.url_rule else "unmatched"
        count_api_request(rule, flask.request.method, response.status_code)
    return response


def register_api(server: flask.Flask) -> None:
    server.register_blueprint(api)
    for code in (404, 405):
        server.register_error_handler(code, _json_http_errors(server, code))
    server.after_request(_count)
