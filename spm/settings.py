"""Where things live: the one place that knows the warehouse, landing and project paths.

Every default can be overridden by an environment variable; values are read when asked for,
never at import time, so tests and the CLI can point a process at another warehouse.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DAGSTER_YAML = REPO_ROOT / "dagster.yaml"


def data_dir() -> Path:
    """Folder for generated and runtime data (``SPM_DATA_DIR``, default ``<repo>/data``)."""
    return Path(os.environ.get("SPM_DATA_DIR", REPO_ROOT / "data")).resolve()


def warehouse_path() -> Path:
    """The DuckDB warehouse file (``SPM_WAREHOUSE``, default ``<data>/warehouse.duckdb``)."""
    return Path(os.environ.get("SPM_WAREHOUSE", data_dir() / "warehouse.duckdb")).resolve()


def landing_dir() -> Path:
    """The landing folder read by default (``SPM_LANDING``, default ``<data>/landing``)."""
    return Path(os.environ.get("SPM_LANDING", data_dir() / "landing")).resolve()


def dagster_home() -> Path:
    """Dagster instance folder for the UI and scheduled runs (``DAGSTER_HOME``, default ``<data>/dagster_home``)."""
    return Path(os.environ.get("DAGSTER_HOME", data_dir() / "dagster_home")).resolve()


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's environment), else ``dbt`` on PATH."""
    import sys

    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def duckdb_memory_limit() -> str | None:
    """Cap on the memory DuckDB may use in the loads, dbt and the suites (``SPM_DUCKDB_MEMORY_LIMIT``,
    e.g. ``4GB``); unset: DuckDB's own default, 80 % of RAM.

    Above the cap DuckDB spills joins, windows and sorts to a folder beside the warehouse, which is
    slower (at the large scale a 2GB cap doubled the CRM load, 231 s against 126 s), and an operator
    that cannot spill fails with an out-of-memory error (mart_sales_kpis did at 2GB). So it is a
    knob for small machines, not a default.
    """
    return os.environ.get("SPM_DUCKDB_MEMORY_LIMIT") or None


def duckdb_config() -> dict[str, str]:
    """DuckDB connection settings of the project's own connections (the memory cap, if set)."""
    limit = duckdb_memory_limit()
    return {"memory_limit": limit} if limit else {}
