"""The dbt resource's global flags."""

from __future__ import annotations

import pytest

from orchestration.resources import FILE_LOG_LEVEL, dbt_global_flags


def test_dbt_file_log_keeps_warnings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    assert dbt_global_flags() == ["--log-level-file", FILE_LOG_LEVEL]
    assert FILE_LOG_LEVEL == "warn"


def test_dbt_file_log_level_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert dbt_global_flags() == []
