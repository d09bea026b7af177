"""Where things live: the one place that knows the warehouse, landing and project paths.

Every default can be overridden by an environment variable; values are read when asked for,
never at import time, so tests and the CLI can point a process at another warehouse.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal, InvalidOperation
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


def serving_path(warehouse: Path | None = None) -> Path:
    """The serving database BI tools open (``SPM_SERVING``, default ``serving.duckdb`` beside the
    warehouse: ``<data>/serving.duckdb`` for the default warehouse)."""
    configured = os.environ.get("SPM_SERVING")
    if configured:
        return Path(configured).resolve()
    return (Path(warehouse) if warehouse is not None else warehouse_path()).resolve().with_name("serving.duckdb")


def dlt_pipelines_dir(warehouse: Path | str) -> Path:
    """dlt's working folder for the pipelines loading ``warehouse`` (their per-file cursors and
    pending packages): ``<warehouse dir>/.dlt_pipelines/<warehouse stem>``, so two warehouses
    never share cursors."""
    warehouse = Path(warehouse).resolve()
    return warehouse.parent / ".dlt_pipelines" / warehouse.stem


def pseudonym_key_file(warehouse: Path | str) -> Path:
    """The file holding the survey pseudonymisation key generated for ``warehouse``: beside it
    (``<warehouse>.pseudonym_key``), never inside it; backups carry it along."""
    warehouse = Path(warehouse).resolve()
    return warehouse.with_name(warehouse.name + ".pseudonym_key")


def publish_survey_answers() -> bool:
    """Whether the survey answers one by one are published (``SPM_PUBLISH_SURVEY_ANSWERS``:
    ``true``/``1``/``yes``; default no)."""
    return os.environ.get("SPM_PUBLISH_SURVEY_ANSWERS", "").strip().lower() in ("1", "true", "yes")


def publish_parquet_dir() -> Path | None:
    """Where every publish also writes the tables as Parquet (``SPM_PUBLISH_PARQUET_DIR``; unset: nowhere)."""
    configured = os.environ.get("SPM_PUBLISH_PARQUET_DIR", "").strip()
    return Path(configured).resolve() if configured else None


def reports_dir() -> Path:
    """Where the monthly pack is written (``SPM_REPORTS_DIR``, else ``reports/`` in the data folder)."""
    configured = os.environ.get("SPM_REPORTS_DIR", "").strip()
    return Path(configured).resolve() if configured else data_dir() / "reports"


def monthly_pack_after_runs() -> bool:
    """Whether `spm run`, `close-period` and `reopen-period` rebuild the monthly pack after their
    publish (``SPM_MONTHLY_PACK``: ``off``/``0``/``false``/``no`` turns it off; default on)."""
    return os.environ.get("SPM_MONTHLY_PACK", "").strip().lower() not in ("off", "0", "false", "no")


def landing_dir() -> Path:
    """The landing folder read by default (``SPM_LANDING``, default ``<data>/landing``)."""
    return Path(os.environ.get("SPM_LANDING", data_dir() / "landing")).resolve()


def dagster_home() -> Path:
    """The Dagster instance every `spm` command and `spm ui` share: runs, materializations and
    check results (``DAGSTER_HOME``, default ``<data>/dagster_home``)."""
    return Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home").resolve()


def logs_dir() -> Path:
    """Where `spm` writes each command's full log: dbt's lines and Dagster's (``<data>/logs``)."""
    return data_dir() / "logs"


def dbt_runs_dir() -> Path:
    """Where each dbt invocation writes its artifacts (``run_results.json``, compiled SQL, log):
    ``<data>/dbt_runs/<run id>-<step>``, outside the dbt project so that a copy of the project
    (dagster-dbt makes one for a selection of more than 200 nodes) stays small."""
    return data_dir() / "dbt_runs"


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's environment), else ``dbt`` on PATH.

    An absolute path: `spm ui` and the runs it launches find dbt without the environment's
    ``bin`` folder on PATH.
    """
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


#: DuckDB's memory cap unless ``SPM_DUCKDB_MEMORY_LIMIT`` says otherwise; the dbt profile's
#: default must be the same (a test compares them).
DEFAULT_DUCKDB_MEMORY_LIMIT = "2.5GB"


def duckdb_memory_limit() -> str:
    """Cap on the memory DuckDB may use in the loads, dbt and the suites (``SPM_DUCKDB_MEMORY_LIMIT``,
    e.g. ``4GB`` or ``80%``; default 2.5GB).

    Each DuckDB (a load or the suites in the run's process, dbt in its own) keeps pages it read
    cached up to its cap, and DuckDB's own default cap is 80 % of RAM: at the large scale a run
    then peaked at 5.9 GiB on a 24 GB machine. With 2.5GB the peak was 3.4 GiB and the run as fast
    (272-278 s against 266 s); above the cap DuckDB spills joins, sorts and windows to a folder
    beside the warehouse. A machine with more data than that per model raises it.
    """
    return os.environ.get("SPM_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT


def duckdb_config() -> dict[str, str]:
    """DuckDB settings of the project's own connections (the loads and the suites).

    Besides the memory cap: rows need not keep their insertion order (no query here relies on
    it without ORDER BY), which lets DuckDB stream bulk inserts instead of buffering them in
    order: the CRM load's peak went from 3.7 to 3.4 GiB at the large scale.
    """
    return {"memory_limit": duckdb_memory_limit(), "preserve_insertion_order": "false"}


def dbt_invocations_kept() -> int:
    """How many dbt invocation folders of :func:`dbt_runs_dir` are kept, newest first
    (``SPM_DBT_INVOCATIONS_KEPT``, default 20): each holds the compiled SQL of every model, about
    8 MB, and a daily job would otherwise fill gigabytes a year."""
    return int(os.environ.get("SPM_DBT_INVOCATIONS_KEPT") or 20)


#: Default of :func:`payout_change_threshold`: a quarter of the previous run's net payout.
DEFAULT_PAYOUT_CHANGE_THRESHOLD = "0.25"


def payout_change_threshold() -> Decimal:
    """Share of a net payout (a rep's or the company's, per open period) by which it may change
    from one run to the next before the run warns and the period's close needs
    ``--accept-change`` (``SPM_PAYOUT_CHANGE_THRESHOLD``, a fraction: default 0.25 = 25 %)."""
    text = os.environ.get("SPM_PAYOUT_CHANGE_THRESHOLD", "").strip() or DEFAULT_PAYOUT_CHANGE_THRESHOLD
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise ValueError(f"SPM_PAYOUT_CHANGE_THRESHOLD must be a share of at least 0 (0.25 = 25 %), not {text!r}")
    return value
