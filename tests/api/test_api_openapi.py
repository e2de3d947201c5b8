"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document whose row schemas are the importer's."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from watchwall.dashboard.openapi import openapi_document
from watchwall.metrics.counties import COUNTY_CODES
from watchwall.metrics.import_rows import (
    AGENCY_NAMES_ZH,
    CASE_COLUMNS,
    CASE_OPTIONAL,
    CHECKIN_COLUMNS,
    CHECKIN_OPTIONAL,
)
from watchwall.metrics.models import (
    CASE_TYPE_NAMES_ZH,
    CASE_TYPES,
    CHECK_METHOD_NAMES_ZH,
    CHECK_METHODS,
    CHECK_RESULTS,
    SOURCE_AGENCIES,
)

from .rows import CASES, CHECKINS


def test_the_served_document_is_valid_openapi_3_1(api):
    response = api.client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document == openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on an invalid document


def _enums(schema: dict) -> list[list[str]]:
    return [choice["enum"] for choice in schema.get("anyOf", [schema])]


def test_row_schemas_are_the_importers_columns_and_model_enumerations():
    schemas = openapi_document()["components"]["schemas"]
    checkin, case = schemas["CheckinRow"], schemas["CaseRow"]
    assert tuple(checkin["properties"]) == CHECKIN_COLUMNS
    assert set(checkin["required"]) == set(CHECKIN_COLUMNS) - CHECKIN_OPTIONAL
    assert tuple(case["properties"]) == CASE_COLUMNS
    assert set(case["required"]) == set(CASE_COLUMNS) - CASE_OPTIONAL
    assert checkin["additionalProperties"] is False and case["additionalProperties"] is False

    assert _enums(checkin["properties"]["method"]) == [
        list(CHECK_METHODS),
        [CHECK_METHOD_NAMES_ZH[code] for code in CHECK_METHODS],
    ]
    assert _enums(checkin["properties"]["result"]) == [list(CHECK_RESULTS)]
    assert _enums(case["properties"]["case_type"]) == [
        list(CASE_TYPES),
        [CASE_TYPE_NAMES_ZH[code] for code in CASE_TYPES],
    ]
    assert _enums(case["properties"]["source_agency"]) == [
        list(SOURCE_AGENCIES),
        [AGENCY_NAMES_ZH[code] for code in SOURCE_AGENCIES],
    ]
    assert case["properties"]["county"]["enum"] == list(COUNTY_CODES)


def test_security_and_error_responses_are_described():
    document = openapi_document()
    assert document["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerToken"]["description"],
    }
    for path, what in (("/checkins", "checkins"), ("/cases", "cases")):
        operation = document["paths"][path]["post"]
        assert operation["security"] == [{"bearerToken": [what]}]
        assert {"200", "400", "401", "403", "413", "415", "422"} <= set(operation["responses"])


def _validator(component: str):
    document = openapi_document()
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def _body_validator(path: str):
    document = openapi_document()
    body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**body, "components": document["components"]})


@pytest.mark.parametrize(("path", "rows"), [("/checkins", CHECKINS), ("/cases", CASES)])
def test_bodies_the_api_accepts_fit_the_schema_and_bad_ones_do_not(path, rows):
    validator = _body_validator(path)
    validator.validate({"rows": rows})
    validator.validate(rows[0])
    assert not validator.is_valid({"rows": []})
    assert not validator.is_valid({"rows": [dict(rows[0], colour="blue")]})
    assert not validator.is_valid({"rows": [dict(rows[0], external_id="x" * 65)]})


def test_the_examples_fit_their_schemas_and_the_api_accepts_them(api):
    for component, what in (("CheckinRow", "checkins"), ("CaseRow", "cases")):
        schema = openapi_document()["components"]["schemas"][component]
        for example in schema["examples"]:
            _validator(component).validate(example)
            response = api.post(what, {"rows": [example]})
            assert response.status_code == 200, (what, response.get_json())
    assert not _validator("CheckinRow").is_valid(dict(CHECKINS[0], method="carrier_pigeon"))
    assert _validator("CaseRow").is_valid(dict(CASES[0], case_type="收监执行"))


def test_the_import_result_and_error_bodies_fit_their_schemas(api):
    result = api.post("checkins", {"rows": CHECKINS}).get_json()
    _validator("ImportResult").validate(result)
    for response in (
        api.post("checkins", {"rows": [dict(CHECKINS[0], result="maybe")]}),
        api.post("checkins", {"rows": CHECKINS}, token=None),
        api.post("cases", {"rows": CASES}, token="checkins"),
    ):
        _validator("Error").validate(response.get_json())
