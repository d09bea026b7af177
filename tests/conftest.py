"""Shared fixtures: isolated environment, a prepared dbt manifest, tiny landing folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tiny_landing import write_tiny_landing

#: One survey pseudonymisation key for every warehouse the tests build, so that two warehouses
#: built from the same files are equal (a generated key differs per warehouse). Set on import:
#: session fixtures load companies before any function fixture runs. tests/orchestration/
#: test_survey_privacy.py builds without it, with the key a run generates.
TEST_PSEUDONYM_KEY_VARIABLE = "SOURCES__SURVEYS__PSEUDONYM_KEY"
os.environ[TEST_PSEUDONYM_KEY_VARIABLE] = "tests-only-pseudonym-key"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the developer's warehouse, landing folder or Dagster home."""
    data = tmp_path_factory.mktemp("spm_data")
    monkeypatch.setenv("SPM_DATA_DIR", str(data))
    for name in ("SPM_WAREHOUSE", "SPM_LANDING", "DAGSTER_HOME", "SOURCES__CRM__HUBSPOT_API_TOKEN", "SPM_REPORTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    # `spm run` and the period commands write the monthly pack after their publish: a few seconds
    # each that the tests of the runs do not need; tests/reporting turns it on where it tests it.
    monkeypatch.setenv("SPM_MONTHLY_PACK", "off")


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest, parsed once per session (never on import)."""
    from orchestration.dbt_manifest import ensure_manifest

    return ensure_manifest()


@pytest.fixture
def tiny_landing(tmp_path: Path) -> Path:
    """A fresh hand-written landing folder."""
    return write_tiny_landing(tmp_path / "landing")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the dbt manifest build a warehouse (end to end): marked ``slow``, so that
    ``make test-fast`` (``pytest -m "not slow"``) leaves them out."""
    for item in items:
        if "dbt_manifest" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
