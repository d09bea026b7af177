"""The dbt manifest is prepared again only when a project file is newer than it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import settings
from orchestration import dbt_manifest


def _touch(path: Path, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("-- x")
    os.utime(path, (mtime, mtime))


def test_staleness_follows_project_files_not_dbt_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DBT_PROJECT_DIR", tmp_path)
    _touch(tmp_path / "models" / "a.sql", 100)
    _touch(tmp_path / "target" / "manifest.json", 200)
    assert not dbt_manifest.manifest_is_stale()

    # dbt's own output, however new, is not a project file.
    _touch(tmp_path / "target" / "compiled" / "b.sql", 300)
    _touch(tmp_path / "logs" / "c.sql", 300)
    assert not dbt_manifest.manifest_is_stale()

    _touch(tmp_path / "models" / "marts" / "d.yml", 300)
    assert dbt_manifest.manifest_is_stale()


def test_the_manifest_is_parsed_once_per_version_of_the_file(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"nodes": {"model.p.a": {}}}')
    first = dbt_manifest.parsed_manifest(manifest)
    assert first == {"nodes": {"model.p.a": {}}}
    assert dbt_manifest.parsed_manifest(manifest) is first

    # dbt writes a new manifest: it is read again
    manifest.write_text('{"nodes": {"model.p.a": {}, "model.p.b": {}}}')
    os.utime(manifest, ns=(manifest.stat().st_mtime_ns + 1_000_000, manifest.stat().st_mtime_ns + 1_000_000))
    assert set(dbt_manifest.parsed_manifest(manifest)["nodes"]) == {"model.p.a", "model.p.b"}


def test_a_parse_for_another_warehouse_or_profile_setting_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt keeps its partial-parse state only for the profile it parsed with, which names the warehouse."""
    monkeypatch.setattr(settings, "DBT_PROJECT_DIR", tmp_path)
    _touch(tmp_path / "models" / "a.sql", 100)
    _touch(tmp_path / "target" / "manifest.json", 200)
    warehouse = tmp_path / "w.duckdb"
    assert dbt_manifest.manifest_is_stale(warehouse)  # nothing records which warehouse it was parsed for
    (tmp_path / "target" / "spm_parse.json").write_text(__import__("json").dumps(dbt_manifest.parse_key(warehouse)))
    assert not dbt_manifest.manifest_is_stale(warehouse)
    assert dbt_manifest.manifest_is_stale(tmp_path / "other.duckdb")
    monkeypatch.setenv("SPM_DUCKDB_MEMORY_LIMIT", "7GB")
    assert dbt_manifest.manifest_is_stale(warehouse)
