"""`spm query` reads the warehouse's tables and nothing else: no file written or read, no download."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from spm.cli import main

REFUSED = "spm query: refused: spm query only reads the warehouse's tables ("


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse with ``marts.dim_reps``; the working folder and HOME are empty folders of the test."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "create schema marts; create table marts.dim_reps as "
            "select '2' as employee_id, 'Bo Li' as rep_name, 'bo@example.com' as work_email"
        )
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))  # where DuckDB would install extensions
    return path


def query(warehouse: Path, sql: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["query", sql, "--warehouse", str(warehouse)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_refused(status: int, out: str, err: str, detail: str) -> None:
    assert status == 2
    assert err.startswith(REFUSED) and err.count("\n") == 1, err
    assert detail in err and "Traceback" not in err
    assert out == ""


def test_a_select_still_prints_the_rows(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = query(warehouse, "select rep_name, work_email from marts.dim_reps", capsys)
    assert status == 0 and err == ""
    assert "Bo Li" in out and "bo@example.com" in out


@pytest.mark.parametrize("target", ["out.csv", "{tmp}/elsewhere/out.csv"])
def test_copy_to_a_file_is_refused_and_writes_nothing(
    target: str, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "elsewhere").mkdir()
    target = target.format(tmp=tmp_path)
    sql = f"copy (select employee_id, rep_name, work_email from marts.dim_reps) to '{target}'"
    assert_refused(*query(warehouse, sql, capsys), "file system operations are disabled")
    assert not (Path.cwd() / "out.csv").exists() and not (tmp_path / "elsewhere" / "out.csv").exists()


def test_export_database_is_refused_and_writes_nothing(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_refused(*query(warehouse, "export database 'dump'", capsys), "file system operations are disabled")
    assert list(Path.cwd().iterdir()) == []


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_text('{secret}')",
        "select * from read_csv('{secret}', header = false)",
        "select * from '{secret}'",
        "select * from glob('{folder}/*')",
    ],
)
def test_reading_a_file_is_refused_and_shows_nothing_of_it(
    sql: str, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("password,TOPSECRET-42\n")
    status, out, err = query(warehouse, sql.format(secret=secret, folder=tmp_path), capsys)
    assert_refused(status, out, err, "file system operations are disabled")
    assert "TOPSECRET" not in out + err


def test_attaching_another_database_is_refused(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.duckdb"
    assert_refused(*query(warehouse, f"attach '{other}' as other", capsys), "file system operations are disabled")
    assert not other.exists()


@pytest.mark.parametrize("sql", ["install httpfs", "load httpfs", "force install httpfs"])
def test_extensions_are_neither_downloaded_nor_loaded(
    sql: str, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = query(warehouse, sql, capsys)
    assert_refused(status, out, err, "Permission Error")
    assert list((tmp_path / "home").iterdir()) == []  # no ~/.duckdb/extensions written


@pytest.mark.parametrize(
    "sql",
    [
        "set enable_external_access = true",
        "reset enable_external_access",
        "set autoinstall_known_extensions = true",
        "set allowed_directories = ['/']",
    ],
)
def test_the_sandbox_cannot_be_switched_off(sql: str, warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_refused(*query(warehouse, sql, capsys), "the configuration has been locked")


def test_a_refusal_is_not_confused_with_a_mistake(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = query(warehouse, "select nope from marts.dim_reps", capsys)
    assert status == 2 and err.startswith("spm query: Binder Error") and "refused" not in err
