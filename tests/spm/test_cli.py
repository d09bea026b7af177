"""The spm command line: exit codes and messages a user sees."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from spm.cli import main


def test_run_on_missing_landing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--landing", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert status == 2
    assert "landing folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()


def test_run_reports_bad_line_and_exits_non_zero(
    dbt_manifest: Path, tiny_landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tiny_landing / "crm" / "contacts" / "2025-02-01_delta-0000.jsonl"
    bad.write_text('{"id":"303","updatedAt":"2025-02-01T00:00:00.000Z"}\n{"id": "304", "properties": \n')
    status = main(["run", "--landing", str(tiny_landing), "--warehouse", str(tmp_path / "w.duckdb"), "--quiet"])
    out = capsys.readouterr().out
    assert status == 1
    assert "Run FAILED" in out
    assert f"file {bad}, line 2: malformed JSON" in out


def test_run_keeps_a_line_without_id_as_a_reject(
    dbt_manifest: Path, tiny_landing: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    contacts = tiny_landing / "crm" / "contacts"
    known = json.loads(sorted(contacts.glob("*.jsonl"))[0].read_text().splitlines()[0])
    newer = dict(known, updatedAt="2025-02-01T00:00:00.000Z")
    without_id = {k: v for k, v in newer.items() if k != "id"}
    (contacts / "2025-02-01_delta-0000.jsonl").write_text(json.dumps(newer) + "\n" + json.dumps(without_id) + "\n")
    warehouse = tmp_path / "w.duckdb"
    status = main(["run", "--landing", str(tiny_landing), "--warehouse", str(warehouse)])
    out = capfd.readouterr().out
    assert status == 0, out
    # one line per step, then the summary; dbt's and Dagster's lines went to the log file
    assert "  ✓ load_crm " in out and "  ✓ dbt_build " in out and "dbt nodes" in out
    assert "  ✓ publish " in out and " rows published" in out
    assert "Published for BI tools: " in out and str(warehouse.with_name("serving.duckdb")) in out
    assert "Running dbt command" not in out and " of " not in out.split("Run succeeded")[0].split("dbt_build")[0]
    log = Path(out.split("Log: ")[1].split()[0])
    assert log.exists() and "OK created sql incremental model marts.fct_deals" in log.read_text()
    assert "Lines rejected at load (not mergeable): raw_crm/contacts_rejected 1" in out
    assert "crm.contacts: 1 missing required field (absent or null)" in out
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        row = connection.execute(
            "select rejected_at_step, field, source_file, source_line from rejects.rejects_crm__contacts"
        ).fetchone()
    assert row == ("load", "id", "crm/contacts/2025-02-01_delta-0000.jsonl", 2)


def test_query_needs_a_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select 1", "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    assert "no warehouse" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()


def test_a_sql_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    assert main(["query", "select * from marts.nothing_here", "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spm query: Catalog Error") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["close-period", "2025-01"], "no warehouse at"),
        (["close-period", "2025-13"], "is not a month written as YYYY-MM"),
        (["reopen-period", "2025-01", "--reason", " "], "needs a reason"),
        (["statements", "2025-01", "--out", "statements"], "no warehouse at"),
        (["export-payouts", "2025-01", "--out", "payroll.csv"], "no warehouse at"),
    ],
)
def test_finance_commands_refuse_in_one_line(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing" / "w.duckdb"
    status = main([*arguments, "--warehouse", str(missing)])
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1, err
    assert not missing.exists() and not missing.parent.exists()


COMMANDS = (
    "generate",
    "run",
    "demo",
    "ui",
    "query",
    "check",
    "bench",
    "close-period",
    "reopen-period",
    "statements",
    "export-payouts",
    "backup",
    "restore",
    "report",
)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_says_what_it_does_and_its_default(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    entries: list[list[str]] = []
    for line in (
        text.split("options:")[0].split("positional arguments:")[-1].splitlines()
        + text.split("options:")[1].splitlines()
    ):
        if re.match(r"^  \S", line):
            entries.append([line])
        elif re.match(r"^\s{4,}\S", line) and entries:
            entries[-1].append(line)
    assert entries
    for entry in entries:
        flag, _, description = entry[0].strip().partition("  ")
        description = (description + " ".join(entry[1:])).strip()
        assert description, f"spm {command}: {flag} has no help"
        if flag.startswith("--") and " " in flag and "--help" not in flag:  # an option taking a value
            assert "(default: " in description, f"spm {command}: {flag} shows no default"


def test_bench_takes_the_date_of_its_full_run() -> None:
    from spm.cli import build_parser

    args = build_parser().parse_args(["bench", "--scale", "large", "--as-of", "2025-12-30"])
    assert args.as_of == dt.date(2025, 12, 30)
    assert build_parser().parse_args(["bench"]).as_of is None


def _failing_with(error: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next ``main`` call run a command that raises ``error``."""
    import argparse

    from spm import cli

    def command(_: argparse.Namespace) -> int:
        raise error

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=command)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)


def test_a_closed_output_pipe_ends_the_command_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import sys

    _failing_with(BrokenPipeError(32, "Broken pipe"), monkeypatch)
    stdout = sys.stdout.fileno()
    saved = os.dup(stdout)
    read_end, write_end = os.pipe()
    try:
        os.dup2(write_end, stdout)
        os.close(read_end)  # the reader went away (`spm check | head`)
        assert main([]) == 1
        assert os.path.samestat(os.fstat(stdout), os.stat(os.devnull))  # what is still written is dropped
    finally:
        os.dup2(saved, stdout)
        os.close(saved)
        os.close(write_end)


def test_another_broken_pipe_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_with(BrokenPipeError(32, "Broken pipe (a subprocess)"), monkeypatch)
    with pytest.raises(BrokenPipeError, match="subprocess"):
        main([])


def test_live_reads_the_apis_not_the_landing_folder(
    dbt_manifest: Path,
    tiny_landing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a landing folder where `spm run` looks by default: --live must not read it
    monkeypatch.setenv("SPM_LANDING", str(tiny_landing))
    warehouse = tmp_path / "w.duckdb"
    status = main(["run", "--live", "--warehouse", str(warehouse), "--quiet"])
    out = capsys.readouterr().out
    assert status == 1
    assert "Error: HubSpot API mode needs a private-app token: set SOURCES__CRM__HUBSPOT_API_TOKEN" in out
    assert "Rows loaded: none" in out  # nothing read from the landing folder


def test_the_headline_says_a_check_failed() -> None:
    from spm.run_summary import RunSummary

    assert "\nRun succeeded in 1.0 s\n" in RunSummary(success=True, elapsed_s=1.0).render() + "\n"
    failed = RunSummary(success=True, elapsed_s=1.0, checks_failed=["a:b"]).render()
    assert "\nRun finished with 1 failed check(s) in 1.0 s" in failed and "succeeded" not in failed
    assert "\nRun FAILED in 1.0 s" in RunSummary(success=False, elapsed_s=1.0, checks_failed=["a:b"]).render()
