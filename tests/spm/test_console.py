"""What `spm run` shows on a terminal: the live step table, never dbt's or Dagster's lines, which
go to the log file."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

from spm.console import DbtProgress, StepState, describe
from tests.tiny_landing import write_tiny_landing

BIN = Path(sys.executable).parent


def test_dbt_progress_counts_finished_nodes_not_hooks() -> None:
    progress = DbtProgress()
    for line in (
        "1 of 1 START hook: sales_performance.on-run-start.0 ...... [RUN]",
        "1 of 1 OK hook: sales_performance.on-run-start.0 ....... [OK in 0.02s]",
        "3 of 207 START sql view model staging.stg_crm__deals ... [RUN]",
        "3 of 207 OK created sql view model staging.stg_crm__deals [OK in 0.05s]",
        "4 of 207 FAIL 2 blocking_suites_passed ............... [FAIL 2 in 0.05s]",
        "5 of 207 SKIP relation marts.fct_payouts ............. [SKIP]",
    ):
        progress.read(line)
    assert (progress.done, progress.total, progress.failed, progress.skipped) == (5, 207, 1, 1)
    step = StepState("dbt_build", status="done", started=100.0, ended=112.5)
    assert describe(step, progress).endswith("12.5 s   dbt nodes 5/207 (1 failed, 1 skipped)")


def test_a_terminal_shows_the_steps_and_the_log_file_gets_the_rest(dbt_manifest: Path, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    primary, secondary = pty.openpty()
    env = {**os.environ, "SPM_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm", "COLUMNS": "120"}
    env.pop("DAGSTER_HOME", None)
    process = subprocess.Popen(
        [str(BIN / "spm"), "run", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb")],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    screen = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 1200)
        if not ready:
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the process ended and closed its side
            break
        if not chunk:
            break
        screen += chunk
    assert process.wait(60) == 0, screen.decode(errors="replace")[-3000:]
    text = screen.decode(errors="replace")
    # every node done (the count grows with the project)
    assert "dbt_build" in text and re.search(r"dbt nodes (\d+)/\1\b", text) and "Run succeeded" in text
    # dbt's own lines and Dagster's log lines reached the log file, not the terminal
    assert "OK created sql" not in text and "Running dbt command" not in text and " - dagster - " not in text
    log = Path(text.split("Log: ")[1].split()[0])
    logged = log.read_text()
    assert "OK created sql incremental model marts.fct_deals" in logged and "Running dbt command" in logged
