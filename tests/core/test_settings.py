"""The DuckDB settings every connection of a run shares: the project's and dbt's."""

import re

import duckdb
import pytest

from core import settings


def test_memory_cap_defaults_and_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPM_DUCKDB_MEMORY_LIMIT", raising=False)
    assert settings.duckdb_config()["memory_limit"] == settings.DEFAULT_DUCKDB_MEMORY_LIMIT
    monkeypatch.setenv("SPM_DUCKDB_MEMORY_LIMIT", "80%")
    assert settings.duckdb_config()["memory_limit"] == "80%"


def test_duckdb_takes_the_project_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPM_DUCKDB_MEMORY_LIMIT", raising=False)
    with duckdb.connect(config=settings.duckdb_config()) as connection:
        limit, ordered = connection.execute(
            "select current_setting('memory_limit'), current_setting('preserve_insertion_order')"
        ).fetchone()
    assert limit == "2.3 GiB"  # 2.5 GB as DuckDB reports it
    assert ordered is False


def test_dbt_profile_has_the_same_default_cap() -> None:
    profile = (settings.DBT_PROJECT_DIR / "profiles.yml").read_text()
    default = re.search(r"env_var\('SPM_DUCKDB_MEMORY_LIMIT', ''\) or '([^']+)'", profile)
    assert default is not None, "profiles.yml no longer reads SPM_DUCKDB_MEMORY_LIMIT"
    assert default.group(1) == settings.DEFAULT_DUCKDB_MEMORY_LIMIT


def test_payout_change_threshold_defaults_to_a_quarter_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    from decimal import Decimal

    monkeypatch.delenv("SPM_PAYOUT_CHANGE_THRESHOLD", raising=False)
    assert settings.payout_change_threshold() == Decimal("0.25")
    monkeypatch.setenv("SPM_PAYOUT_CHANGE_THRESHOLD", "0.5")
    assert settings.payout_change_threshold() == Decimal("0.5")
    for bad in ("25%", "-0.1", "nan"):
        monkeypatch.setenv("SPM_PAYOUT_CHANGE_THRESHOLD", bad)
        with pytest.raises(ValueError, match=f"SPM_PAYOUT_CHANGE_THRESHOLD must be a share.*{re.escape(bad)}"):
            settings.payout_change_threshold()
