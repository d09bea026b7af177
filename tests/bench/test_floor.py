"""The floor: DuckDB's own readers load every landing entity, and nothing is left behind."""

from __future__ import annotations

import json
from pathlib import Path

from bench.floor import read_with_duckdb


def test_the_floor_reads_every_entity_of_the_landing(tiny_landing: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "floor.duckdb"
    result = read_with_duckdb(tiny_landing, scratch)

    calls = tiny_landing / "crm" / "calls"
    lines = sum(1 for path in calls.glob("*.jsonl") for line in path.read_text().splitlines() if line.strip())
    assert result["entities"]["crm/calls"]["rows"] == lines
    assert "hris/employees" in result["entities"]
    assert result["seconds"] >= 0
    assert not scratch.exists()
    json.dumps(result)  # the benchmark writes it as JSON
