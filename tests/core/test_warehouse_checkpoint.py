"""Every writer ends with a CHECKPOINT: the .duckdb file alone then holds everything committed."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from core.warehouse_lock import checkpoint, warehouse_write_lock


def write_leaving_a_wal(warehouse: Path, rows: int = 50_000) -> None:
    """Commit ``rows`` rows into ``marts.fct_deals`` the way a writer killed before its checkpoint
    would leave them: in ``<warehouse>.wal``, not in the file."""
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("pragma disable_checkpoint_on_shutdown")
        connection.execute("set checkpoint_threshold = '1GB'")
        connection.execute("create schema if not exists marts")
        connection.execute(f"create or replace table marts.fct_deals as select range as deal_id from range({rows})")
    assert Path(f"{warehouse}.wal").stat().st_size > 0


def rows_in_a_copy_of_the_file_alone(warehouse: Path, folder: Path) -> int | None:
    """Rows of ``marts.fct_deals`` in a copy of the ``.duckdb`` file without its WAL (None: no table)."""
    copy = folder / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy), read_only=True) as connection:
        found = connection.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'fct_deals'"
        ).fetchone()[0]
        return connection.execute("select count(*) from marts.fct_deals").fetchone()[0] if found else None


def test_a_wal_left_behind_is_what_a_file_copy_misses(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    write_leaving_a_wal(warehouse)
    assert rows_in_a_copy_of_the_file_alone(warehouse, tmp_path) is None


def test_the_write_lock_checkpoints_before_letting_go(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with warehouse_write_lock(warehouse):
        write_leaving_a_wal(warehouse)
    assert not Path(f"{warehouse}.wal").exists()
    assert rows_in_a_copy_of_the_file_alone(warehouse, tmp_path) == 50_000


def test_a_writer_that_fails_is_checkpointed_too(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(ValueError, match="the step broke"), warehouse_write_lock(warehouse):
        write_leaving_a_wal(warehouse, rows=10)
        raise ValueError("the step broke")
    assert not Path(f"{warehouse}.wal").exists()
    assert rows_in_a_copy_of_the_file_alone(warehouse, tmp_path) == 10


def test_a_missing_warehouse_stays_missing(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with warehouse_write_lock(warehouse):
        pass
    checkpoint(warehouse)
    assert not warehouse.exists()


def test_a_checkpoint_that_fails_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"not a database" * 1000)
    messages: list[str] = []
    with warehouse_write_lock(warehouse, on_wait=messages.append):
        pass
    assert len(messages) == 1 and messages[0].startswith(f"could not checkpoint {warehouse} (its .wal keeps")
    assert messages[0] in caplog.text
    with pytest.raises(duckdb.Error):
        checkpoint(warehouse)  # called directly, the error is the caller's
