"""Rows the intake API accepts: three check-ins of the test subjects and two cases."""

CHECKINS = [
    {
        "external_id": "CHK-1",
        "subject": "S-0001",
        "checked_at": "2024-05-01T08:12:00+08:00",
        "method": "dingtalk",
        "result": "ok",
        "latitude": 34.58,
        "longitude": 105.72,
    },
    {
        "external_id": "CHK-2",
        "subject": "S-0002",
        "checked_at": "2024-05-01T09:00:00",
        "method": "入户走访",
        "result": "missed",
    },
    {
        "external_id": "CHK-3",
        "subject": "S-0003",
        "checked_at": "2024-05-01T20:30:00+08:00",
        "method": "electronic",
        "result": "out_of_area",
    },
]
CASES = [
    {
        "external_id": "CASE-1",
        "case_type": "correction_reception",
        "source_agency": "court",
        "county": "qinzhou",
        "received_at": "2024-05-01T09:30:00+08:00",
    },
    {
        "external_id": "CASE-2",
        "case_type": "审前社会调查评估",
        "source_agency": "公安",
        "county": "maiji",
        "received_at": "2024-05-02T10:00:00+08:00",
        "closed_at": "2024-05-20T10:00:00+08:00",
    },
]
