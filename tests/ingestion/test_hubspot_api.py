"""API mode of the CRM source against a local fake of HubSpot's v3 endpoints (loopback only)."""

from __future__ import annotations

import datetime as dt
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pyarrow as pa
import pytest

from ingestion.crm import crm_source
from ingestion.hubspot_api import HubSpotApi, filter_since
from ingestion.pipelines import make_pipeline
from tests.tiny_landing import tiny_records
from tests.warehouse_checks import count, table_fingerprints

TOKEN = "test-token"


class FakeHubSpot(BaseHTTPRequestHandler):
    """Serves tiny_records() in HubSpot's shapes, one record per page to exercise the cursor."""

    records = tiny_records()
    requests: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"status": "error", "message": "Authentication credentials not found."})
            return
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        FakeHubSpot.requests.append(self.path)
        if url.path == "/crm/v3/pipelines/deals":
            landing = json.loads(next((self.server.landing / "crm/pipelines").iterdir()).read_text())
            self._send(200, landing)
            return
        name = "owners" if url.path == "/crm/v3/owners" else url.path.rsplit("/", 1)[-1]
        rows = [r for r in self.records.get(name, []) if str(r.get("archived", False)).lower() == query["archived"]]
        start = int(query.get("after", 0))
        body: dict = {"results": rows[start : start + 1]}
        if start + 1 < len(rows):
            body["paging"] = {"next": {"after": str(start + 1), "link": "..."}}
        self._send(200, body)

    def _send(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def test_api_mode_loads_what_landing_mode_loads(fake_hubspot: str, tiny_landing: Path, tmp_path: Path) -> None:
    api = HubSpotApi(token=TOKEN, base_url=fake_hubspot)
    make_pipeline("crm", tmp_path / "api.duckdb").run(crm_source(api=api))
    make_pipeline("crm", tmp_path / "files.duckdb").run(crm_source(landing_dir=tiny_landing))
    from_api = table_fingerprints(tmp_path / "api.duckdb", ("raw_crm",))
    from_files = table_fingerprints(tmp_path / "files.duckdb", ("raw_crm",))
    # same rows; only _source_file / _source_line (page vs file) differ, so compare counts
    assert {k: v[0] for k, v in from_api.items()} == {k: v[0] for k, v in from_files.items()}
    assert from_api["raw_crm.deals"][0] == 2
    deal_requests = [r for r in FakeHubSpot.requests if r.startswith("/crm/v3/objects/deals")]
    assert any("after=1" in r for r in deal_requests), "the cursor paginator followed paging.next.after"
    assert all("propertiesWithHistory=dealstage" in r for r in deal_requests)


def test_api_mode_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__CRM__HUBSPOT_API_TOKEN", raising=False)
    with pytest.raises(RuntimeError, match="private-app token"):
        HubSpotApi.from_secrets()


def test_filter_since_keeps_lookback_window() -> None:
    updated = ["2025-01-01T00:00:00.000Z", "2025-01-09T12:00:00.000Z", "2025-01-10T00:00:00.000Z"]
    table = pa.table({"updatedAt": updated})

    kept, newest = filter_since(table, "2025-01-10T00:00:00.000Z", dt.timedelta(days=1))
    assert kept.column("updatedAt").to_pylist() == ["2025-01-09T12:00:00.000Z", "2025-01-10T00:00:00.000Z"]
    assert newest == "2025-01-10T00:00:00.000Z"


def test_api_mode_is_incremental_on_updated_at(
    fake_hubspot: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = HubSpotApi(token=TOKEN, base_url=fake_hubspot)
    pipeline = make_pipeline("crm", tmp_path / "api.duckdb")
    pipeline.run(crm_source(api=api))
    records = json.loads(json.dumps(tiny_records()))
    changed = records["deals"][1]
    changed["properties"]["amount"] = "999.00"
    changed["updatedAt"] = "2025-03-01T00:00:00.000Z"
    monkeypatch.setattr(FakeHubSpot, "records", records)
    # deals cursor is 2025-01-20 (deal 401): with one day of lookback both deals are reloaded
    pipeline.run(crm_source(api=api))
    assert pipeline.last_trace.last_normalize_info.row_counts.get("deals") == 2
    # now the cursor is 2025-03-01: deal 401 (2025-01-20) falls outside the lookback window,
    # only deal 402 (inside its own window) is reloaded, which merging makes harmless
    pipeline.run(crm_source(api=api))
    assert pipeline.last_trace.last_normalize_info.row_counts.get("deals") == 1
    assert count(tmp_path / "api.duckdb", "raw_crm.deals where id = '402' and amount = '999.00'") == 1
    assert count(tmp_path / "api.duckdb", "raw_crm.deals") == 2
