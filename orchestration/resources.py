"""Resources shared by the assets: the warehouse (paths, dlt pipelines, lock) and dbt."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import dlt
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from dlt.sources import DltSource
from packaging import version

from ingestion.pipelines import make_pipeline, make_source
from orchestration.memory_release import release_memory
from orchestration.warehouse_lock import warehouse_write_lock
from spm import settings


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
        return make_source(name, self.landing_dir or None)

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
    def writing(self, context: dg.AssetExecutionContext | None = None) -> Iterator[None]:
        """Exclusive write access to the warehouse file, across processes; on leaving, the memory
        the step freed goes back to the operating system."""
        log = context.log.info if context is not None else None
        try:
            with warehouse_write_lock(self.path, on_wait=log):
                yield
        finally:
            release_memory()  # the next step (often dbt, in its own process) starts from less

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
    """The dbt project, created once per process (its manifest is prepared by `spm` / tests / `dagster dev`)."""
    project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


class WarehouseDbtCliResource(DbtCliResource):
    """dbt CLI resource that does not build a dbt adapter inside the Dagster process.

    dagster-dbt builds one before every invocation (loading the profile and parsing all ~550
    macros: 1-3 s per dbt step) only to serve ``fetch_row_counts`` / ``fetch_column_metadata``,
    which this project does not use; dbt itself runs in its own process either way.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        """The installed dbt-core's version when dbt is this environment's own (dagster-dbt would
        start ``dbt --version``, 2-4 s, once per run); otherwise what the executable reports."""
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version


#: dbt's file log (``<target>/dbt.log``) at its default level, debug, records every statement of
#: every node: about 10 MB per daily run at ``large``, and 1-1.5 s of a dbt step's ~17 s with
#: ~330 nodes. The job keeps warnings and errors there; Dagster keeps each node's events, and
#: ``run_results.json`` its timings. Setting DBT_LOG_LEVEL_FILE (e.g. ``debug``) overrides this.
FILE_LOG_LEVEL = "warn"


def dbt_global_flags() -> list[str]:
    """Flags before the dbt command: the file log level, unless DBT_LOG_LEVEL_FILE sets one."""
    if os.environ.get("DBT_LOG_LEVEL_FILE"):
        return []
    return ["--log-level-file", FILE_LOG_LEVEL]


def dbt_resource() -> DbtCliResource:
    """The dbt CLI resource for the project."""
    return WarehouseDbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=os.fspath(settings.DBT_PROJECT_DIR),
        dbt_executable=settings.dbt_executable(),
        global_config_flags=dbt_global_flags(),
    )
