"""A minimal, hand-written landing folder in the documented shapes, for ingestion tests."""

from __future__ import annotations

import json
from pathlib import Path

BATCH = "2025-01-31_full"


def _object(id_: str, props: dict, updated: str, assoc: dict | None = None, **extra: object) -> dict:
    record: dict = {
        "id": id_,
        "properties": props,
        "createdAt": "2025-01-02T09:00:00.000Z",
        "updatedAt": updated,
        "archived": False,
        "archivedAt": None,
    }
    if assoc:
        record["associations"] = {k: {"results": [{"id": v, "type": k}]} for k, v in assoc.items()}
    record.update(extra)
    return record


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write records as one JSON object per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def tiny_records() -> dict[str, list[dict]]:
    """Two of everything, in HubSpot / BambooHR / survey-export shapes."""
    t = "2025-01-10T10:00:00.000Z"
    history = [
        {"value": "closedwon", "timestamp": "2025-01-20T10:00:00.000Z", "sourceType": "CRM_UI", "sourceId": "userId:1"},
        {"value": "appointmentscheduled", "timestamp": t, "sourceType": "CRM_UI", "sourceId": "userId:1"},
    ]
    return {
        "owners": [
            {
                "id": "101",
                "email": "ana@example.com",
                "firstName": "Ana",
                "lastName": "Diaz",
                "userId": 1,
                "createdAt": t,
                "updatedAt": t,
                "archived": False,
                "teams": [{"id": "9", "name": "EMEA 1", "primary": True}],
            },
            {
                "id": "102",
                "email": "bo@example.com",
                "firstName": "Bo",
                "lastName": "Li",
                "userId": 2,
                "createdAt": t,
                "updatedAt": t,
                "archived": False,
                "teams": [],
            },
        ],
        "companies": [
            _object("201", {"name": "Acme", "domain": "acme.test", "hubspot_owner_id": "101"}, t),
            _object("202", {"name": "Globex", "domain": "globex.test", "hubspot_owner_id": "102"}, t),
        ],
        "contacts": [
            _object(
                "301", {"email": "c1@acme.test", "lifecyclestage": "lead", "createdate": t}, t, {"companies": "201"}
            ),
            _object(
                "302",
                {"email": "c2@globex.test", "lifecyclestage": "customer", "createdate": t},
                t,
                {"companies": "202"},
            ),
        ],
        "deals": [
            _object(
                "401",
                {
                    "dealname": "Acme renewal",
                    "pipeline": "default",
                    "dealstage": "closedwon",
                    "amount": "1000.50",
                    "deal_currency_code": "USD",
                    "hubspot_owner_id": "101",
                    "closedate": "2025-01-20T10:00:00.000Z",
                    "createdate": t,
                },
                "2025-01-20T10:00:00.000Z",
                {"companies": "201", "contacts": "301"},
                propertiesWithHistory={"dealstage": history},
            ),
            _object(
                "402",
                {
                    "dealname": "Globex new",
                    "pipeline": "default",
                    "dealstage": "appointmentscheduled",
                    "amount": "250.00",
                    "deal_currency_code": "EUR",
                    "hubspot_owner_id": "102",
                    "createdate": t,
                },
                t,
                {"companies": "202"},
                propertiesWithHistory={"dealstage": history[1:]},
            ),
        ],
        "calls": [
            _object(
                "501",
                {
                    "hs_timestamp": t,
                    "hs_call_direction": "OUTBOUND",
                    "hs_call_duration": "60000",
                    "hubspot_owner_id": "101",
                },
                t,
                {"contacts": "301", "deals": "401"},
            ),
            _object(
                "502",
                {"hs_timestamp": t, "hs_call_direction": "INBOUND", "hs_call_duration": "0", "hubspot_owner_id": "102"},
                t,
                {"contacts": "302"},
            ),
        ],
        "emails": [
            _object(
                "601",
                {"hs_timestamp": t, "hs_email_direction": "EMAIL", "hubspot_owner_id": "101"},
                t,
                {"contacts": "301"},
            ),
        ],
        "meetings": [
            _object(
                "701",
                {"hs_timestamp": t, "hs_meeting_outcome": "COMPLETED", "hubspot_owner_id": "101"},
                t,
                {"contacts": "301"},
            ),
        ],
    }


def write_tiny_landing(root: Path) -> Path:
    """Write the tiny landing folder under ``root`` and return it."""
    records = tiny_records()
    for name, rows in records.items():
        write_jsonl(root / "crm" / name / f"{BATCH}-0000.jsonl", rows)
    stages = [
        {
            "id": "appointmentscheduled",
            "label": "Appointment Scheduled",
            "displayOrder": 0,
            "metadata": {"isClosed": "false", "probability": "0.2"},
        },
        {
            "id": "closedwon",
            "label": "Closed Won",
            "displayOrder": 1,
            "metadata": {"isClosed": "true", "probability": "1.0"},
        },
        {
            "id": "closedlost",
            "label": "Closed Lost",
            "displayOrder": 2,
            "metadata": {"isClosed": "true", "probability": "0.0"},
        },
    ]
    (root / "crm" / "pipelines").mkdir(parents=True)
    (root / "crm" / "pipelines" / f"{BATCH}.json").write_text(
        json.dumps({"results": [{"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "stages": stages}]})
    )
    employees = [
        {
            "id": "1",
            "firstName": "Ana",
            "lastName": "Diaz",
            "workEmail": "ana@example.com",
            "hireDate": "2024-01-01",
            "terminationDate": "0000-00-00",
            "status": "Active",
        },
        {
            "id": "2",
            "firstName": "Bo",
            "lastName": "Li",
            "workEmail": "bo@example.com",
            "hireDate": "2024-02-01",
            "terminationDate": "0000-00-00",
            "status": "Active",
            "supervisorEId": "1",
        },
    ]
    (root / "hris" / "employees").mkdir(parents=True)
    (root / "hris" / "employees" / f"{BATCH}.json").write_text(json.dumps({"fields": [], "employees": employees}))
    jobs = [
        {"id": "11", "employeeId": "1", "date": "2024-01-01", "jobTitle": "Sales Manager"},
        {"id": "12", "employeeId": "2", "date": "2024-02-01", "jobTitle": "Account Executive", "reportsToEId": "1"},
    ]
    (root / "hris" / "job_info").mkdir(parents=True)
    (root / "hris" / "job_info" / f"{BATCH}.json").write_text(json.dumps(jobs))
    write_jsonl(
        root / "surveys" / "surveys" / f"{BATCH}-0000.jsonl",
        [
            {
                "survey_id": "S1",
                "name": "January pulse",
                "sent_at": "2025-01-06T09:00:00.000Z",
                "audience_size": 2,
                "questions": [{"question_id": "enps", "question_text": "How likely...", "type": "score_0_10"}],
            }
        ],
    )
    write_jsonl(
        root / "surveys" / "responses" / f"{BATCH}-0000.jsonl",
        [
            {"response_id": "R1", "survey_id": "S1", "respondent_employee_id": "2", "submitted_at": t, "updated_at": t}
            for t in ["2025-01-07T09:00:00.000Z"]
        ],
    )
    write_jsonl(
        root / "surveys" / "answers" / f"{BATCH}-0000.jsonl",
        [
            {
                "answer_id": "A1",
                "response_id": "R1",
                "survey_id": "S1",
                "question_id": "enps",
                "question_text": "How likely...",
                "score": 0,
                "text": None,
                "updated_at": "2025-01-07T09:00:00.000Z",
            }
        ],
    )
    plans = root / "plans"
    for entity, text in {
        "quotas": "employee_id,period_month,quota_amount,currency\n2,2025-01,10000.00,USD\n",
        "plan_assignments": "assignment_id,employee_id,plan_id,effective_from,effective_to\nA1,2,AE-2025,2025-01-01,\n",
        "credit_splits": "deal_id,employee_id,split_type,split_pct\n401,2,revenue,100\n",
        "fx_rates": "period_month,currency,rate_to_reporting\n2025-01,USD,1.000000\n2025-01,EUR,1.080000\n",
    }.items():
        (plans / entity).mkdir(parents=True)
        (plans / entity / f"{BATCH}.csv").write_text(text)
    (plans / "commission_plans").mkdir(parents=True)
    (plans / "commission_plans" / f"{BATCH}.yaml").write_text(
        "reporting_currency: USD\nplans:\n  - plan_id: AE-2025\n    version: 1\n    effective_from: 2025-01-01\n"
        "    currency: USD\n    components:\n      - component_id: base\n        type: rate_table\n"
        "        tier_method: marginal\n        tiers:\n"
        "          - {from_attainment: 0.0, to_attainment: null, rate: 0.08}\n"
    )
    return root
