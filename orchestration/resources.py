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
from pydantic import PrivateAttr

from ingestion.pipelines import make_pipeline, make_source
from orchestration import dbt_warm_process
from orchestration.memory_release import freeze_startup_heap, release_memory, thaw_startup_heap
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

    _froze_heap: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """As a run starts: the objects loaded before it are left out of its garbage collections."""
        self._froze_heap = freeze_startup_heap()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """As a run ends: those objects are collected as usual again."""
        thaw_startup_heap(self._froze_heap)
        self._froze_heap = False

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
    """dbt CLI resource that does not build a dbt adapter inside the Dagster process, and that
    keeps a warm dbt process for the run's dbt steps.

    dagster-dbt builds an adapter before every invocation (loading the profile and parsing all
    ~550 macros: 1-3 s per dbt step) only to serve ``fetch_row_counts`` /
    ``fetch_column_metadata``, which this project does not use; dbt itself runs in its own
    process either way.

    When ``dbt_executable`` is the ``spm-dbt`` launcher, a run starts the warm process
    (``orchestration/dbt_warm_process.py``) as it begins, while the loads run, and stops it at
    the end; ``warm_warehouse`` names the warehouse whose parse state it warms up with.
    """

    warm_warehouse: str = ""
    _warm: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Start the run's warm dbt process (when the launcher is the dbt executable)."""
        super().setup_for_execution(context)
        if Path(self.dbt_executable).name != LAUNCHER or not dbt_warm_process.supported():
            return
        warehouse = Path(self.warm_warehouse).resolve() if self.warm_warehouse else None
        self._warm = dbt_warm_process.adopt_early(Path(self.project_dir), warehouse)
        if self._warm is not None:  # started by the command line before Dagster was imported
            return
        state = settings.dbt_partial_parse_state(Path(self.project_dir), warehouse) if warehouse else None
        try:
            self._warm = dbt_warm_process.WarmDbtProcess(Path(self.project_dir), state, warehouse)
            self._warm.start()
        except OSError as error:  # the run goes on with a cold dbt per step
            if context.log:
                context.log.warning(f"no warm dbt process for this run: {error}")
            if self._warm is not None:
                self._warm.stop()
            self._warm = None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Stop the run's warm dbt process, logging how many dbt commands it served."""
        if self._warm is None:
            return
        try:
            if context.log:
                context.log.info(f"{WARM_DBT_SERVED}: {len(self._warm.served())}")
        finally:
            self._warm.stop()
            self._warm = None

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


#: Start of the log line with which a run reports how many dbt commands its warm process served.
WARM_DBT_SERVED = "dbt commands served by the run's warm dbt process"
#: File name of the dbt launcher (console script ``spm-dbt``, ``orchestration/dbt_launcher.py``).
LAUNCHER = "spm-dbt"


def dbt_executable() -> str:
    """``spm-dbt`` beside this Python (runs commands in the run's warm dbt process), unless
    ``SPM_DBT_WARM=0`` or it is not installed; then dbt itself (``settings.dbt_executable``)."""
    launcher = Path(sys.executable).with_name(LAUNCHER)
    if os.environ.get("SPM_DBT_WARM", "1") != "0" and launcher.exists():
        return str(launcher)
    return settings.dbt_executable()


def dbt_resource(warehouse: Path | None = None) -> DbtCliResource:
    """The dbt CLI resource for the project; ``warehouse`` (if known) warms its dbt process."""
    return WarehouseDbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=os.fspath(settings.DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        global_config_flags=dbt_global_flags(),
        warm_warehouse=os.fspath(warehouse) if warehouse else "",
    )
