"""A BI tool holding the warehouse open (read-only, in another process) while a run wants to write.

DuckDB's file lock keeps every writer out while any other process has the file open. A
warehouse-writing step (here the plans load of the generated `small` company, run by Dagster)
waits for the lock, logging the holder DuckDB names; it proceeds once the reader lets go, and
fails with an error naming the file and the holder after ``SPM_WAREHOUSE_LOCK_TIMEOUT_S``.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster_dlt import DagsterDltResource

from core.warehouse_lock import LOCK_TIMEOUT_ENV, file_lock_timeout
from orchestration.defs.ingestion import build_source_assets
from orchestration.resources import WarehouseResource
from tests.small_company import Company, loaded_small_company
from tests.warehouse_checks import table_fingerprints

#: A BI tool: opens the warehouse read-only, says so, holds it until a line arrives on stdin.
READER = (
    "import sys, duckdb\n"
    "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print('open', flush=True)\n"
    "sys.stdin.readline()\n"
    "connection.close()\n"
)
WAITING = "is open in another process"


class RunLog(logging.Handler):
    """Collects the run's log messages; ``waiting`` is set once the writer reports a reader."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.waiting = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message (``<job> - <run id> - <step> - <text>``)."""
        message = record.getMessage()
        self.messages.append(message)
        if WAITING in message:
            self.waiting.set()


@pytest.fixture
def company(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Company:
    """A copy of the loaded `small` company: the warehouse file exists, as a BI tool finds it."""
    return loaded_small_company(tmp_path_factory).copy_to(tmp_path)


@pytest.fixture
def reader(company: Company) -> Iterator[subprocess.Popen[str]]:
    """A separate process holding the warehouse open read-only until told to close it."""
    process = subprocess.Popen(
        [sys.executable, "-c", READER, str(company.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "open"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def release(process: subprocess.Popen[str]) -> None:
    """Tell the reader to close the warehouse and exit."""
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()


def run_plans_load(company: Company, log: RunLog) -> dg.ExecuteInProcessResult:
    """Run the plans load (a warehouse-writing asset) with Dagster, its log going to ``log``."""

    @dg.logger
    def capture(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("test_bi_reader", level=logging.DEBUG)
        logger.addHandler(log)
        return logger

    definitions = dg.Definitions(
        assets=[build_source_assets("plans")],
        resources={
            "dlt": DagsterDltResource(),
            "warehouse": WarehouseResource(warehouse_path=str(company.warehouse), landing_dir=str(company.landing)),
        },
        loggers={"capture": capture},
    )
    job = definitions.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config={"loggers": {"capture": {}}}, raise_on_error=False
    )


def test_run_waits_for_a_reader_then_proceeds(
    company: Company, reader: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "120")
    log = RunLog()

    def release_two_seconds_after_the_writer_waits() -> None:
        if log.waiting.wait(60):  # (if the wait is never logged, release anyway: the test fails below)
            time.sleep(2)
        release(reader)

    releaser = threading.Thread(target=release_two_seconds_after_the_writer_waits, daemon=True)
    releaser.start()
    result = run_plans_load(company, log)
    releaser.join(10)

    assert result.success
    assert reader.wait(10) == 0, "the reader closed the file itself; nobody killed it"
    waiting = [m for m in log.messages if WAITING in m]
    assert len(waiting) == 1, log.messages
    assert f"PID {reader.pid}" in waiting[0] and str(company.warehouse) in waiting[0]
    assert f"waiting up to 120 s ({LOCK_TIMEOUT_ENV})" in waiting[0]
    assert any(f"released by PID {reader.pid}" in m for m in log.messages)
    assert result.get_asset_materialization_events(), "the load ran after the wait"


def test_run_fails_clearly_when_the_reader_stays(
    company: Company, reader: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "1")
    before = table_fingerprints(company.warehouse, ("raw_plans",))
    log = RunLog()

    result = run_plans_load(company, log)

    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    assert error is not None
    message = error.message + "".join(cause.message for cause in _causes(error))
    assert "WarehouseBusyError" in message
    assert str(company.warehouse) in message and f"PID {reader.pid}" in message
    assert "gave up after waiting 1 s" in message and LOCK_TIMEOUT_ENV in message
    assert reader.poll() is None, "the reader still holds the file"
    assert any(WAITING in m for m in log.messages)
    assert not result.get_asset_materialization_events()
    release(reader)
    assert reader.wait(10) == 0
    assert table_fingerprints(company.warehouse, ("raw_plans",)) == before


def _causes(error: dg.SerializableErrorInfo) -> Iterator[dg.SerializableErrorInfo]:
    while error.cause is not None:
        error = error.cause
        yield error


def test_timeout_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCK_TIMEOUT_ENV, raising=False)
    assert file_lock_timeout() == 600.0
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "2.5")
    assert file_lock_timeout() == 2.5
    for bad in ("ten", "-1", "nan"):
        monkeypatch.setenv(LOCK_TIMEOUT_ENV, bad)
        with pytest.raises(ValueError, match=LOCK_TIMEOUT_ENV):
            file_lock_timeout()
