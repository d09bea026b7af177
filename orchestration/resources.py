"""Resources the assets share: the warehouse (paths, dlt pipelines, the write lock) and dbt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg
import dlt
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from dlt.sources import DltSource

from core import settings
from core.warehouse_lock import warehouse_write_lock
from ingestion.pipelines import make_pipeline, make_source
from orchestration.memory_release import release_memory


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse a run writes and the landing folder it reads.

    ``landing_dir`` empty means the live APIs (credentials from environment / dlt secrets).
    """

    warehouse_path: str
    landing_dir: str = ""

    @property
    def path(self) -> Path:
        """Absolute path of the DuckDB file."""
        return Path(self.warehouse_path).resolve()

    def source(self, name: str) -> DltSource:
        """The dlt source ``name`` for this run's landing folder (or live API)."""
        return make_source(name, self.landing_dir or None, self.path)

    @contextmanager
    def loading(self, name: str) -> Iterator[dlt.Pipeline]:
        """The dlt pipeline of source ``name`` on one connection to the warehouse, held open while
        it runs (dlt would close and reopen the database between its jobs) and closed on leaving."""
        connection = duckdb.connect(str(self.path))
        try:
            yield make_pipeline(name, self.path, connection=connection)
        finally:
            connection.close()

    @contextmanager
    def writing(
        self, context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext | None = None
    ) -> Iterator[None]:
        """Exclusive write access to the warehouse file, across processes; on leaving, the memory
        the step freed goes back to the operating system."""
        log = context.log.info if context is not None else None
        try:
            with warehouse_write_lock(self.path, on_wait=log):
                yield
        finally:
            release_memory()  # the next step starts from less

    @contextmanager
    def dbt_environment(self) -> Iterator[None]:
        """Point the dbt profile (``SPM_WAREHOUSE``) at this warehouse while dbt runs."""
        previous = os.environ.get("SPM_WAREHOUSE")
        os.environ["SPM_WAREHOUSE"] = str(self.path)
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("SPM_WAREHOUSE", None)
            else:
                os.environ["SPM_WAREHOUSE"] = previous


@cache
def dbt_project() -> DbtProject:
    """The dbt project, created once per process. Its manifest is prepared before the definitions
    are built (``orchestration.dbt_manifest.ensure_manifest``), never on import."""
    return DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)


#: dbt's file log (``dbt.log`` in each invocation's folder) at its default level, debug, records
#: every statement of every node: about 10 MB per daily run at ``large``. The job keeps warnings
#: and errors there; Dagster keeps each node's events, ``run_results.json`` its timings, and the
#: run's own log (``data/logs``) dbt's console lines. DBT_LOG_LEVEL_FILE (e.g. ``debug``) overrides it.
FILE_LOG_LEVEL = "warn"


def dbt_global_flags() -> list[str]:
    """Flags before the dbt command: the file log level, unless DBT_LOG_LEVEL_FILE sets one."""
    if os.environ.get("DBT_LOG_LEVEL_FILE"):
        return []
    return ["--log-level-file", FILE_LOG_LEVEL]


def dbt_resource() -> DbtCliResource:
    """dagster-dbt's stock CLI resource on the project, with the environment's own dbt."""
    return DbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=os.fspath(settings.DBT_PROJECT_DIR),
        dbt_executable=settings.dbt_executable(),
        global_config_flags=dbt_global_flags(),
    )
