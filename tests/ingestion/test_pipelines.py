"""Loading the landing folder with dlt: idempotent, incremental by file, atomic on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion import arrow_readers
from ingestion.errors import IngestionError
from ingestion.pipelines import RAW_DATASETS, make_pipeline, make_source
from tests.tiny_landing import write_jsonl
from tests.warehouse_checks import count, table_fingerprints


def load_all(landing: Path, warehouse: Path) -> None:
    for name in RAW_DATASETS:
        make_pipeline(name, warehouse).run(make_source(name, landing, warehouse))


def test_load_twice_changes_nothing(tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load_all(tiny_landing, warehouse)
    first = table_fingerprints(warehouse, tuple(RAW_DATASETS.values()))
    assert first["raw_crm.deals"][0] == 2 and first["raw_crm.deal_stage_history"][0] == 3
    assert first["raw_plans.plan_tiers"][0] == 1 and first["raw_crm.pipeline_stages"][0] == 3
    load_all(tiny_landing, warehouse)
    assert table_fingerprints(warehouse, tuple(RAW_DATASETS.values())) == first


def test_delta_file_updates_in_place(tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load_all(tiny_landing, warehouse)
    deal = json.loads((tiny_landing / "crm/deals/2025-01-31_full-0000.jsonl").read_text().splitlines()[1])
    deal["properties"].update(dealstage="closedwon", amount="300.00")
    deal["updatedAt"] = "2025-02-01T08:00:00.000Z"
    deal["propertiesWithHistory"]["dealstage"].insert(
        0, {"value": "closedwon", "timestamp": "2025-02-01T08:00:00.000Z", "sourceType": "CRM_UI", "sourceId": "u"}
    )
    new = dict(deal, id="403", updatedAt="2025-02-01T09:00:00.000Z")
    write_jsonl(tiny_landing / "crm/deals/2025-02-01_delta-0000.jsonl", [deal, new])
    make_pipeline("crm", warehouse).run(make_source("crm", tiny_landing))
    assert count(warehouse, "raw_crm.deals") == 3
    assert count(warehouse, "raw_crm.deals where id = '402' and amount = '300.00' and dealstage = 'closedwon'") == 1
    # history of 402 replaced by its newer, longer version; 403 added with its own copy
    assert count(warehouse, "raw_crm.deal_stage_history where deal_id = '402'") == 2
    assert count(warehouse, "raw_crm.deal_stage_history") == 3 + 1 + 2


def test_newest_version_wins_within_one_load(tiny_landing: Path, tmp_path: Path) -> None:
    older = json.loads((tiny_landing / "crm/calls/2025-01-31_full-0000.jsonl").read_text().splitlines()[0])
    newer = json.loads(json.dumps(older))
    newer["properties"]["hs_call_duration"] = "90000"
    newer["updatedAt"] = "2025-03-01T00:00:00.000Z"
    # the newer version sits in an earlier file: order of files must not decide, updatedAt does
    write_jsonl(tiny_landing / "crm/calls/2025-01-01_delta-0000.jsonl", [newer])
    warehouse = tmp_path / "w.duckdb"
    pipeline = make_pipeline("crm", warehouse)
    pipeline.run(make_source("crm", tiny_landing))
    assert count(warehouse, "raw_crm.calls where id = '501' and hs_call_duration = '90000'") == 1
    assert count(warehouse, "raw_crm.calls where id = '501'") == 1
    # the key repeated in this first load, so it was merged (deduplicated), not appended
    assert pipeline.default_schema.tables["calls"]["write_disposition"] == "merge"
    assert pipeline.default_schema.tables["deals"]["write_disposition"] == "append"


def test_first_load_appends_and_later_loads_merge(tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    pipeline = make_pipeline("crm", warehouse)
    pipeline.run(make_source("crm", tiny_landing))
    tables = pipeline.default_schema.tables
    assert tables["calls"]["write_disposition"] == "append" and tables["deals"]["write_disposition"] == "append"
    assert tables["deal_stage_history"]["write_disposition"] == "append"
    assert count(warehouse, "raw_crm.calls") == count(warehouse, "(select distinct id from raw_crm.calls)")
    # a later version of a call, its key unique in this load but already stored: merged in place
    call = json.loads((tiny_landing / "crm/calls/2025-01-31_full-0000.jsonl").read_text().splitlines()[0])
    call["updatedAt"], call["properties"]["hs_call_duration"] = "2025-03-01T00:00:00.000Z", "1000"
    write_jsonl(tiny_landing / "crm/calls/2025-03-01_delta-0000.jsonl", [call])
    before = count(warehouse, "raw_crm.calls")
    pipeline = make_pipeline("crm", warehouse)
    pipeline.run(make_source("crm", tiny_landing))
    assert pipeline.default_schema.tables["calls"]["write_disposition"] == "merge"
    assert count(warehouse, "raw_crm.calls") == before
    assert count(warehouse, f"raw_crm.calls where id = '{call['id']}' and hs_call_duration = '1000'") == 1


def test_bad_file_stops_the_load_and_loses_nothing(tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load_all(tiny_landing, warehouse)
    before = table_fingerprints(warehouse, ("raw_crm",))
    good = tiny_landing / "crm/companies/2025-02-01_delta-0000.jsonl"
    write_jsonl(good, [{"id": "203", "properties": {"name": "Initech"}, "updatedAt": "2025-02-01T00:00:00.000Z"}])
    bad = tiny_landing / "crm/deals/2025-02-01_delta-0000.jsonl"
    bad.write_text('{"id":"404","properties":{},"updatedAt":"2025-02-01T00:00:00.000Z"}\n{"id": "405",\n')
    with pytest.raises(PipelineStepFailed) as failure:
        make_pipeline("crm", warehouse).run(make_source("crm", tiny_landing))
    cause = failure.value.__cause__
    while cause is not None and not isinstance(cause, IngestionError):
        cause = cause.__cause__ or cause.__context__
    assert isinstance(cause, IngestionError)
    assert cause.line == 2 and cause.file == str(bad)
    # nothing of the failed run is in the warehouse: not the good company file, not deal 404
    assert table_fingerprints(warehouse, ("raw_crm",)) == before
    # once fixed, the next run loads both pending files exactly once
    bad.write_text('{"id":"404","properties":{},"updatedAt":"2025-02-01T00:00:00.000Z"}\n')
    make_pipeline("crm", warehouse).run(make_source("crm", tiny_landing))
    assert count(warehouse, "raw_crm.deals") == 3
    assert count(warehouse, "raw_crm.companies") == 3


def test_crm_files_read_in_many_blocks_ahead_of_the_writer_load_the_same_rows(
    tiny_landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second calls file, so blocks are read ahead across a file boundary
    full = tiny_landing / "crm/calls/2025-01-31_full-0000.jsonl"
    calls = [json.loads(line) for line in full.read_text().splitlines()]
    later = [dict(call, id=f"9{call['id']}", updatedAt="2025-02-01T08:00:00.000Z") for call in calls]
    write_jsonl(tiny_landing / "crm/calls/2025-02-01_delta-0000.jsonl", later)
    whole = tmp_path / "whole" / "w.duckdb"
    make_pipeline("crm", whole).run(make_source("crm", tiny_landing))

    monkeypatch.setattr(arrow_readers, "JSONL_CHUNK_BYTES", 400)  # one or two records per block
    in_blocks = tmp_path / "blocks" / "w.duckdb"
    pipeline = make_pipeline("crm", in_blocks)
    pipeline.run(make_source("crm", tiny_landing))

    assert count(in_blocks, "raw_crm.calls") == 2 * len(calls)
    assert table_fingerprints(in_blocks, ("raw_crm",)) == table_fingerprints(whole, ("raw_crm",))
    # every file was marked loaded: the next run reads none of them again
    loaded = pipeline.state["sources"]["crm"]["resources"]["calls_pages"]["loaded_files"]
    assert sorted(loaded) == ["crm/calls/2025-01-31_full-0000.jsonl", "crm/calls/2025-02-01_delta-0000.jsonl"]
    pipeline.run(make_source("crm", tiny_landing))
    assert table_fingerprints(in_blocks, ("raw_crm",)) == table_fingerprints(whole, ("raw_crm",))


def test_survey_exports_append_on_first_load_and_merge_after(tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    pipeline = make_pipeline("surveys", warehouse)
    pipeline.run(make_source("surveys", tiny_landing, warehouse))
    tables = pipeline.default_schema.tables
    assert tables["responses"]["write_disposition"] == "append"
    assert tables["answers"]["write_disposition"] == "append"
    # a corrected answer (same id, later updated_at) replaces the stored one instead of adding a row
    answer = json.loads((tiny_landing / "surveys/answers/2025-01-31_full-0000.jsonl").read_text().splitlines()[0])
    answer["score"], answer["updated_at"] = 9, "2025-01-08T09:00:00.000Z"
    write_jsonl(tiny_landing / "surveys/answers/2025-01-08_delta-0000.jsonl", [answer])
    pipeline = make_pipeline("surveys", warehouse)
    pipeline.run(make_source("surveys", tiny_landing, warehouse))
    assert pipeline.default_schema.tables["answers"]["write_disposition"] == "merge"
    assert count(warehouse, "raw_surveys.answers") == 1
    assert count(warehouse, "raw_surveys.answers where answer_id = 'A1' and score = 9") == 1
