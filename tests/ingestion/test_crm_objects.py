"""Flattening HubSpot objects keeps every property and the first association of each kind."""

from __future__ import annotations

import pyarrow as pa

from ingestion.crm_objects import CRM_OBJECTS, OWNER_SCHEMA, flatten_history, flatten_objects, flatten_owners
from tests.tiny_landing import tiny_records


def test_deals_flatten_and_history() -> None:
    deal = CRM_OBJECTS["deals"]
    table = pa.Table.from_pylist(tiny_records()["deals"], schema=deal.read_schema())
    flat = flatten_objects(table, deal, "crm/deals/x.jsonl")
    rows = flat.to_pylist()
    assert [r["id"] for r in rows] == ["401", "402"]
    assert rows[0]["amount"] == "1000.50" and rows[0]["associated_company_id"] == "201"
    assert rows[0]["associated_contact_id"] == "301" and rows[1]["associated_contact_id"] is None
    assert rows[1]["associated_contacts_count"] == 0
    assert [r["_source_line"] for r in rows] == [1, 2]
    history = flatten_history(table, deal, "dealstage", "crm/deals/x.jsonl").to_pylist()
    assert [(h["deal_id"], h["value"]) for h in history] == [
        ("401", "closedwon"),
        ("401", "appointmentscheduled"),
        ("402", "appointmentscheduled"),
    ]


def test_owner_primary_team() -> None:
    table = pa.Table.from_pylist(tiny_records()["owners"], schema=OWNER_SCHEMA)
    rows = flatten_owners(table, "crm/owners/x.jsonl").to_pylist()
    assert rows[0]["primary_team_name"] == "EMEA 1"
    assert rows[1]["primary_team_name"] is None
