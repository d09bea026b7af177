"""`spm backup` writes a copy that is the whole warehouse on its own; `spm restore` puts one back."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from core.warehouse_lock import warehouse_write_lock
from spm.cli import main
from tests.core.test_warehouse_checkpoint import write_leaving_a_wal
from tests.warehouse_checks import table_fingerprints


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def deals_in(database: Path) -> int:
    """Rows of ``marts.fct_deals`` in ``database`` opened alone: copied first into a folder of its own."""
    alone = database.parent / "alone" / database.name
    alone.parent.mkdir(exist_ok=True)
    shutil.copyfile(database, alone)
    try:
        with duckdb.connect(str(alone), read_only=True) as connection:
            return int(connection.execute("select count(*) from marts.fct_deals").fetchone()[0])
    finally:
        shutil.rmtree(alone.parent)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse whose latest rows are still in its .wal (a file copy would miss them)."""
    path = tmp_path / "w.duckdb"
    write_leaving_a_wal(path, rows=1234)
    return path


def assert_no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".partial-" in p.name]


def test_the_backup_alone_holds_what_was_still_in_the_wal(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = tmp_path / "backups" / "w-2025-06-30.duckdb"
    destination.parent.mkdir()
    status, out, err = run(capsys, "backup", str(destination), "--warehouse", str(warehouse))
    assert status == 0 and err == ""
    assert out.startswith(f"Backed up {warehouse} to {destination}: 1 tables, ")
    assert deals_in(destination) == 1234
    assert not Path(f"{warehouse}.wal").exists()  # checkpointed into the warehouse too
    assert_no_leftovers(destination.parent)


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ("{tmp}/existing.duckdb", "{tmp}/existing.duckdb exists; pass --force to replace it"),
        ("{tmp}", "{tmp} is a folder; name the backup file (e.g. {tmp}/warehouse.duckdb)"),
        ("{tmp}/nope/b.duckdb", "the folder {tmp}/nope does not exist; create it first"),
        ("{tmp}/w.duckdb", "{tmp}/w.duckdb is the warehouse itself; name another file"),
        ("{tmp}/w.duckdb.wal", "{tmp}/w.duckdb.wal is the warehouse itself; name another file"),
    ],
)
def test_a_refused_backup_says_why_in_one_line_and_writes_nothing(
    destination: str, message: str, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "existing.duckdb"
    existing.write_bytes(b"yesterday's backup")
    before = sorted(p.name for p in tmp_path.iterdir())
    status, out, err = run(capsys, "backup", destination.format(tmp=tmp_path), "--warehouse", str(warehouse))
    assert (status, out, err) == (2, "", f"spm backup: {message.format(tmp=tmp_path)}\n")
    assert existing.read_bytes() == b"yesterday's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_backup_needs_a_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.duckdb"
    status, _, err = run(capsys, "backup", str(tmp_path / "b.duckdb"), "--warehouse", str(missing))
    assert status == 2
    assert err == f"spm backup: no warehouse at {missing} (run `spm run` first, or pass --warehouse)\n"
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_the_backup_and_drops_its_stale_wal(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = tmp_path / "b.duckdb"
    write_leaving_a_wal(destination, rows=7)  # an old file with a .wal DuckDB would replay onto the copy
    status, _, err = run(capsys, "backup", str(destination), "--warehouse", str(warehouse), "--force")
    assert status == 0, err
    assert not Path(f"{destination}.wal").exists()
    assert deals_in(destination) == 1234


def test_backup_waits_for_a_writer_and_copies_what_it_wrote(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with warehouse_write_lock(warehouse):
            holding.set()
            release.wait(60)
            write_leaving_a_wal(warehouse, rows=4321)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(60)
        threading.Timer(1.0, release.set).start()
        status, out, err = run(capsys, "backup", str(tmp_path / "b.duckdb"), "--warehouse", str(warehouse))
    finally:
        release.set()
        thread.join(60)
    assert status == 0, err
    assert out.startswith(f"waiting for another process writing {warehouse}")
    assert deals_in(tmp_path / "b.duckdb") == 4321


def test_restore_puts_the_backup_in_place(warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backup = tmp_path / "b.duckdb"
    assert run(capsys, "backup", str(backup), "--warehouse", str(warehouse))[0] == 0
    write_leaving_a_wal(warehouse, rows=99)  # later work, lost by the restore
    dlt_state = tmp_path / ".dlt_pipelines" / "w" / "spm_crm"
    dlt_state.mkdir(parents=True)

    status, _, err = run(capsys, "restore", str(backup), "--warehouse", str(warehouse))
    assert (status, err) == (2, f"spm restore: {warehouse} exists; pass --force to replace it\n")
    assert Path(f"{warehouse}.wal").exists() and dlt_state.exists()  # nothing touched

    status, out, err = run(capsys, "restore", str(backup), "--warehouse", str(warehouse), "--force")
    assert status == 0, err
    assert out.startswith(f"Restored {backup} to {warehouse}: 1 tables.")
    assert not Path(f"{warehouse}.wal").exists()
    assert not dlt_state.parent.exists()  # dlt reads its load state from the restored warehouse
    assert deals_in(warehouse) == 1234
    assert_no_leftovers(tmp_path)


@pytest.mark.parametrize("problem", ["missing", "not a database", "has a wal"])
def test_a_refused_restore_leaves_the_warehouse_alone(
    problem: str, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "b.duckdb"
    if problem == "not a database":
        backup.write_bytes(b"not a database" * 100)
    elif problem == "has a wal":
        write_leaving_a_wal(backup, rows=5)
    before = warehouse.read_bytes()
    status, _, err = run(capsys, "restore", str(backup), "--warehouse", str(warehouse), "--force")
    expected = {
        "missing": f"no backup at {backup}",
        "not a database": f"{backup} is not a DuckDB warehouse: ",
        "has a wal": f"{backup} has a .wal beside it: not a complete backup (make one with `spm backup`)",
    }[problem]
    assert status == 2 and err.startswith(f"spm restore: {expected}") and err.count("\n") == 1, err
    assert warehouse.read_bytes() == before and Path(f"{warehouse}.wal").exists()


def test_after_a_run_the_wal_is_empty_and_the_backup_alone_holds_the_marts(
    dbt_manifest: Path, tiny_landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    status, out, _ = run(capsys, "run", "--landing", str(tiny_landing), "--warehouse", str(warehouse), "--quiet")
    assert status == 0, out
    wal = Path(f"{warehouse}.wal")
    assert not wal.exists() or wal.stat().st_size == 0

    destination = tmp_path / "backups" / "w.duckdb"  # the same name: a .wal beside it would be replayed
    destination.parent.mkdir()
    assert run(capsys, "backup", str(destination), "--warehouse", str(warehouse))[0] == 0
    expected = table_fingerprints(warehouse, ("marts",))
    assert len(expected) > 20 and sum(rows for rows, _ in expected.values()) > 0
    assert table_fingerprints(destination, ("marts",)) == expected


def test_the_pseudonymisation_key_travels_with_the_backup_and_back(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.settings import pseudonym_key_file

    pseudonym_key_file(warehouse).write_text("k" * 64)
    backup = tmp_path / "b.duckdb"
    assert run(capsys, "backup", str(backup), "--warehouse", str(warehouse))[0] == 0
    assert pseudonym_key_file(backup).read_text() == "k" * 64
    assert pseudonym_key_file(backup).stat().st_mode & 0o077 == 0

    pseudonym_key_file(warehouse).write_text("lost")
    assert run(capsys, "restore", str(backup), "--warehouse", str(warehouse), "--force")[0] == 0
    assert pseudonym_key_file(warehouse).read_text() == "k" * 64
    assert_no_leftovers(tmp_path)
