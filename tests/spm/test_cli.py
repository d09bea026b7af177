"""The spm command line: exit codes and messages a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from spm.cli import main


def test_run_on_missing_landing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--landing", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert status == 2
    assert "landing folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()


def test_run_reports_bad_line_and_exits_non_zero(
    dbt_manifest: Path, tiny_landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tiny_landing / "crm" / "contacts" / "2025-02-01_delta-0000.jsonl"
    bad.write_text('{"id":"303","updatedAt":"2025-02-01T00:00:00.000Z"}\n{"updatedAt":"2025-02-01T00:00:00.000Z"}\n')
    status = main(["run", "--landing", str(tiny_landing), "--warehouse", str(tmp_path / "w.duckdb"), "--quiet"])
    out = capsys.readouterr().out
    assert status == 1
    assert "Run FAILED" in out
    assert f"file {bad}, line 2, field 'id': missing required field" in out


def test_query_needs_a_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select 1", "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    assert "no warehouse" in capsys.readouterr().err
