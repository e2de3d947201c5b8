"""The OpenAPI 3.1 document of the data-intake API, built from the importer's row definitions.

Columns, which of them are optional, their enumerations and limits come from
:mod:`watchwall.metrics.import_rows` and :mod:`watchwall.metrics.models`, so the document cannot drift from what the
API accepts. Enumerations accept the English code or the Chinese name, as the importer does.
"""

from __future__ import annotations

from functools import cache

from watchwall.dashboard.api_clients import SCOPES
from watchwall.metrics.counties import COUNTY_CODES
from watchwall.metrics.import_rows import AGENCY_NAMES_ZH, MAX_ID_LENGTH, ROW_KINDS, RowKind
from watchwall.metrics.models import (
    CASE_TYPE_NAMES_ZH,
    CASE_TYPES,
    CHECK_METHOD_NAMES_ZH,
    CHECK_METHODS,
    CHECK_RESULTS,
    SOURCE_AGENCIES,
)

MAX_BODY_BYTES = 2 * 1024 * 1024  # what the intake accepts in one request
MAX_ROWS = 5000

API_VERSION = "1.0.0"
TIME_DESCRIPTION = (
    "ISO 8601 time, e.g. 2024-05-01T08:12:00+08:00; without an offset it is the site's local time"
)


def _code_or_name(codes: tuple[str, ...], names_zh: dict[str, str], description: str) -> dict:
    choices = [{"type": "string", "enum": list(codes), "title": "code"}]
    if names_zh:
        choices.append({"type": "string", "enum": [names_zh[code] for code in codes], "title": "中文名称"})
    return {"description": description, "anyOf": choices}


def _identifier(description: str) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "description": description}


def _coordinate(limit: int, description: str) -> dict:
    return {"type": ["number", "null"], "minimum": -limit, "maximum": limit, "description": description}


COLUMN_SCHEMAS = {
    "checkins": {
        "external_id": _identifier("unique id of the check on the source system"),
        "subject": _identifier("external id of the subject (must already be in the database)"),
        "checked_at": {"type": "string", "description": f"when the check happened; {TIME_DESCRIPTION}"},
        "method": _code_or_name(CHECK_METHODS, CHECK_METHOD_NAMES_ZH, "how the location was checked"),
        "result": _code_or_name(CHECK_RESULTS, {}, "outcome of the check"),
        "latitude": _coordinate(90, "WGS 84 latitude; give it together with longitude"),
        "longitude": _coordinate(180, "WGS 84 longitude; give it together with latitude"),
        "camera_id": {
            "type": ["string", "null"],
            "maxLength": MAX_ID_LENGTH,
            "description": "the room camera where the check happened, of the subject's county (required for "
            "method video): the recorded span around checked_at is checked for a face",
        },
    },
    "cases": {
        "external_id": _identifier("unique id of the case on the cross-department platform"),
        "case_type": _code_or_name(CASE_TYPES, CASE_TYPE_NAMES_ZH, "kind of case"),
        "source_agency": _code_or_name(SOURCE_AGENCIES, AGENCY_NAMES_ZH, "agency that sent the case"),
        "county": {"type": "string", "enum": list(COUNTY_CODES), "description": "county code"},
        "received_at": {"type": "string", "description": f"when the centre received it; {TIME_DESCRIPTION}"},
        "closed_at": {
            "type": ["string", "null"],
            "description": f"when the case was closed, not before received_at; {TIME_DESCRIPTION}",
        },
    },
}

EXAMPLES = {
    "checkins": {
        "external_id": "CHK-2024-000001",
        "subject": "S-0001",
        "checked_at": "2024-05-01T08:12:00+08:00",
        "method": "dingtalk",
        "result": "ok",
        "latitude": 34.58,
        "longitude": 105.72,
    },
    "cases": {
        "external_id": "CASE-2024-0001",
        "case_type": "correction_reception",
        "source_agency": "court",
        "county": "qinzhou",
        "received_at": "2024-05-01T09:30:00+08:00",
        "closed_at": None,
    },
}

ERRORS = {
    "400": "malformed JSON or a body that is not {rows: [...]} / one row",
    "401": "missing, unknown or revoked API token",
    "403": "the client's scopes do not include this kind of row",
    "409": "a concurrent request wrote the same new rows; posting again is safe",
    "413": "body larger than 2 MiB or more than 5000 rows",
    "415": "content type is not application/json",
    "422": "invalid rows (every bad row's index and reason in details); nothing was written",
    "503": "the database is unavailable",
}


def row_schema(what: str, kind: RowKind) -> dict:
    columns = COLUMN_SCHEMAS[what]
    if tuple(columns) != kind.columns:
        raise RuntimeError(f"the OpenAPI columns of {what} differ from the importer's: {kind.columns}")
    return {
        "type": "object",
        "properties": columns,
        "required": [column for column in kind.columns if column not in kind.optional],
        "additionalProperties": False,
        "examples": [EXAMPLES[what]],
    }


def _body_schema(what: str) -> dict:
    row = {"$ref": f"#/components/schemas/{_row_name(what)}"}
    many = {
        "type": "object",
        "properties": {"rows": {"type": "array", "items": row, "minItems": 1, "maxItems": MAX_ROWS}},
        "required": ["rows"],
        "additionalProperties": False,
    }
    return {"oneOf": [many, row]}


def _row_name(what: str) -> str:
    return {"checkins": "CheckinRow", "cases": "CaseRow"}[what]


def _operation(what: str, summary: str) -> dict:
    errors = {
        status: {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status, description in ERRORS.items()
    }
    return {
        "operationId": f"post_{what}",
        "summary": summary,
        "description": (
            "Rows are validated whole: if any row is invalid nothing is written. Rows are upserted by "
            "external_id, so posting the same rows again changes nothing (see unchanged)."
        ),
        "tags": ["intake"],
        "security": [{"bearerToken": [what]}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _body_schema(what)}},
        },
        "responses": {
            "200": {
                "description": "written (or already there)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportResult"}}},
            },
            **errors,
        },
    }


def _components() -> dict:
    count = {"type": "integer", "minimum": 0}
    return {
        "schemas": {
            "CheckinRow": row_schema("checkins", ROW_KINDS["checkins"]),
            "CaseRow": row_schema("cases", ROW_KINDS["cases"]),
            "ImportResult": {
                "type": "object",
                "properties": {
                    "rows": count,
                    "new": count,
                    "updated": count,
                    "unchanged": count,
                    "changed": {"type": "boolean"},
                    "message": {"type": "string"},
                },
                "required": ["rows", "new", "updated", "unchanged", "changed", "message"],
            },
            "Error": {
                "type": "object",
                "properties": {
                    "error": {"type": "string"},
                    "details": {
                        "type": "array",
                        "items": {
                            "anyOf": [
                                {"type": "string"},
                                {
                                    "type": "object",
                                    "properties": {
                                        "index": {"type": "integer", "minimum": 0},
                                        "reason": {"type": "string"},
                                    },
                                    "required": ["index", "reason"],
                                },
                            ]
                        },
                    },
                },
                "required": ["error", "details"],
            },
        },
        "securitySchemes": {
            "bearerToken": {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "A client token from `watchwall api-client add NAME --scope ...`; "
                    f"scopes: {', '.join(SCOPES)}"
                ),
            }
        },
    }


@cache
def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "WatchWall data intake",
            "version": API_VERSION,
            "description": (
                "Check-ins from self-service terminals and cases from the cross-department platform. "
                "Row indexes in errors are 0-based positions in rows."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/checkins": {"post": _operation("checkins", "post location checks of subjects")},
            "/cases": {"post": _operation("cases", "post cases received from the cross-department platform")},
        },
        "components": _components(),
    }
