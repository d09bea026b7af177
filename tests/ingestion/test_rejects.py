"""Rows that cannot be merged are kept in ``<entity>_rejected`` with a reason; the rest loads."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ingestion.pipelines import make_pipeline, make_source
from ingestion.rejects import EarlierBlocks, split_rejects, with_line_numbers
from tests.tiny_landing import write_jsonl
from tests.warehouse_checks import count


def _call(id_: str | None, duration: str, updated: str | None = "2025-02-01T00:00:00.000Z") -> dict:
    record: dict = {"properties": {"hs_timestamp": "2025-02-01T10:00:00Z", "hs_call_duration": duration}}
    if id_ is not None:
        record["id"] = id_
    if updated is not None:
        record["updatedAt"] = updated
    return record


def test_split_keeps_exact_repeats_and_versions_rejects_conflicts() -> None:
    table = pa.table(
        {
            "id": ["1", "1", "2", "2", "3", "3", None, "5"],
            "updatedAt": ["t1", "t1", "t1", "t1", "t1", "t2", "t1", None],
            "v": ["a", "a", "b", "c", "d", "e", "f", "g"],
        }
    )
    split = split_rejects(
        with_line_numbers(table), key="id", version="updatedAt", required=("id", "updatedAt"), source="f.jsonl"
    )
    # 1: an exact repeat (harmless); 3: two versions (history); 2: a conflict; None and 5: no key / no version
    assert split.rows.column("id").to_pylist() == ["1", "1", "3", "3"]
    rejected = split.rejected.to_pylist()
    assert [(r["record_id"], r["_source_line"], r["field"]) for r in rejected] == [
        ("2", 3, "id"),
        ("2", 4, "id"),
        (None, 7, "id"),
        ("5", 8, "updatedAt"),
    ]
    assert rejected[0]["reason"].startswith("duplicate id with different content")
    assert json.loads(rejected[1]["record"]) == {"id": "2", "updatedAt": "t1", "v": "c"}
    assert all(r["_source_file"] == "f.jsonl" and r["rejected_at"] for r in rejected)


def test_a_line_repeating_an_earlier_block_is_rejected_naming_the_loaded_line() -> None:
    earlier = EarlierBlocks("id", "updatedAt")

    def block(first: int, ids: list[str], versions: list[str], origin: str = "f.jsonl") -> tuple[list, list]:
        table = with_line_numbers(pa.table({"id": ids, "updatedAt": versions}), first)
        split = earlier.check(origin, split_rejects(table, key="id", version="updatedAt", required=(), source=origin))
        rows = list(
            zip(split.rows.column("id").to_pylist(), split.rows.column("_source_line").to_pylist(), strict=True)
        )
        return rows, [(r["record_id"], r["_source_line"], r["reason"]) for r in split.rejected.to_pylist()]

    assert block(1, ["1", "2"], ["t1", "t1"]) == ([("1", 1), ("2", 2)], [])
    # 1 again at the same version: rejected, naming line 1; 2 at a new version is history; 3 is new
    rows, rejected = block(3, ["1", "2", "3"], ["t1", "t2", "t1"])
    assert rows == [("2", 4), ("3", 5)]
    assert [(r[0], r[1]) for r in rejected] == [("1", 3)] and "of line 1 of the same file" in rejected[0][2]
    # the rejected line is not 'seen': only loaded lines are named; 2@t2 is now known at line 4
    rows, rejected = block(6, ["2"], ["t2"])
    assert rows == [] and "of line 4" in rejected[0][2]
    # a new file starts afresh
    assert block(1, ["1"], ["t1"], origin="g.jsonl") == ([("1", 1)], [])
    # keys beyond the earlier blocks' range (an export paged by id) load without a probe; a block
    # reaching back into the range is probed again
    assert block(2, ["4", "5"], ["t1", "t1"], origin="g.jsonl") == ([("4", 2), ("5", 3)], [])
    rows, rejected = block(4, ["6", "0", "5"], ["t1", "t1", "t1"], origin="g.jsonl")
    assert rows == [("6", 4), ("0", 5)] and [(r[0], r[1]) for r in rejected] == [("5", 6)]


def test_unmergeable_rows_are_rejected_and_the_rest_loads(tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    delta = tiny_landing / "crm/calls/2025-02-01_delta-0000.jsonl"
    write_jsonl(
        delta,
        [
            _call("601", "1000"),
            _call(None, "2000"),  # no key: cannot be merged
            _call("602", "3000"),
            _call("602", "4000"),  # same id and updatedAt, other content: which is true?
            _call("603", "5000", updated=None),  # no version to order it by
        ],
    )
    pipeline = make_pipeline("crm", warehouse)
    pipeline.run(make_source("crm", tiny_landing))
    assert pipeline.last_trace.last_normalize_info.row_counts["calls_rejected"] == 4
    assert count(warehouse, "raw_crm.calls where id = '601'") == 1
    assert count(warehouse, "raw_crm.calls where id in ('602', '603')") == 0
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select record_id, _source_line, field, reason, _source_file, _dlt_load_id is not null "
            "from raw_crm.calls_rejected order by _source_line"
        ).fetchall()
        other_tables = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw_crm' and table_name like '%\\_rejected' escape '\\'"
        ).fetchone()[0]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (None, 2, "id"),
        ("602", 3, "id"),
        ("602", 4, "id"),
        ("603", 5, "updatedAt"),
    ]
    assert rows[0][3] == "missing required field (absent or null)"
    assert all(r[4] == "crm/calls/2025-02-01_delta-0000.jsonl" and r[5] for r in rows)
    # every merged CRM entity has its rejects table from the first load on, empty or not
    assert other_tables == 7
    # rerunning loads nothing twice: the file is done, rejects included
    make_pipeline("crm", warehouse).run(make_source("crm", tiny_landing))
    assert count(warehouse, "raw_crm.calls_rejected") == 4


def test_redelivered_file_lists_its_rejects_once_and_unknown_fields_are_kept(
    tiny_landing: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    delta = tiny_landing / "crm/calls/2025-02-01_delta-0000.jsonl"
    record = dict(_call("601", "1000"), url="https://app.hubspot.com/calls/601")
    write_jsonl(delta, [record, _call(None, "2000")])
    make_pipeline("crm", warehouse).run(make_source("crm", tiny_landing))
    # the same file delivered again (new modification time): read again, its reject kept once
    write_jsonl(delta, [record, _call(None, "2000")])
    make_pipeline("crm", warehouse).run(make_source("crm", tiny_landing))
    assert count(warehouse, "raw_crm.calls_rejected") == 1
    assert count(warehouse, "raw_crm.calls where id = '601' and url = 'https://app.hubspot.com/calls/601'") == 1


def test_blocks_beyond_the_earlier_key_range_are_not_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    probes: list[int] = []
    is_in = pc.is_in

    def counting_is_in(values: pa.Array, **kwargs: object) -> pa.Array:
        probes.append(len(values))
        return is_in(values, **kwargs)

    monkeypatch.setattr(pc, "is_in", counting_is_in)
    earlier = EarlierBlocks("id", "updatedAt")

    def block(first: int, ids: list[str]) -> list[tuple[str, int]]:
        table = with_line_numbers(pa.table({"id": ids, "updatedAt": ["t1"] * len(ids)}), first)
        split = earlier.check("f.jsonl", split_rejects(table, key="id", version="updatedAt", required=(), source="f"))
        return [(r["record_id"], r["_source_line"]) for r in split.rejected.to_pylist()]

    assert block(1, ["100", "104"]) == [] and probes == []
    assert block(3, ["105", "109"]) == [] and probes == []  # beyond the range: no probe
    # the range's edge is inside it: "109" is probed and found at line 4
    assert block(5, ["109", "110"]) == [("109", 5)] and probes
