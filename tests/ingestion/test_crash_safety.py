"""A load killed with SIGKILL, once while extracting and once while loading, then run again, leaves
the warehouse as one clean run would: no partial table, no duplicate, nothing missing.

dlt commits the per-file load state with the load package, and on the next run first finishes a
package left half loaded (its completed jobs are not repeated), then extracts what is still
pending; these tests check that this holds for our sources end to end.

The load runs in a child process with the production pipeline. The moment to kill is observed
from outside, without any hook in the code: while extracting, the child holds a landing file open
(``/proc/<pid>/fd``); while loading, dlt's load package shows a merge job completed and another
one started. The child is frozen (SIGSTOP), the moment is checked again, then it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.small_company import Company, loaded_small_company
from tests.warehouse_checks import table_fingerprints

REPO = Path(__file__).resolve().parents[2]
DELTA = "2026-01-02_delta-0000.jsonl"
#: Entities given a big delta: every record again, one year newer (a merge that rewrites them all).
DELTA_ENTITIES = ("deals", "calls")
CHILD = (
    "import sys\n"
    "from ingestion.pipelines import make_pipeline, make_source\n"
    "make_pipeline('crm', sys.argv[2]).run(make_source('crm', sys.argv[1]))\n"
)
#: The CRM load, killed as soon as a job of table ``argv[3]`` has committed its rows, before dlt
#: records that the job is done: the narrowest window, where a re-run writes the rows again.
CHILD_KILLED_AFTER_COMMIT = (
    "import os, signal, sys\n"
    "from dlt.common.storages.load_package import PackageStorage\n"
    "from ingestion.pipelines import make_pipeline, make_source\n"
    "record = PackageStorage.save_pending_transition\n"
    "def killed(self, load_id, file_name, state, *rest):\n"
    "    if file_name.startswith(sys.argv[3] + '.') and state == 'completed':\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "    return record(self, load_id, file_name, state, *rest)\n"
    "PackageStorage.save_pending_transition = killed\n"
    "make_pipeline('crm', sys.argv[2]).run(make_source('crm', sys.argv[1]))\n"
)
#: The CRM load, killed at a file operation on dlt's working folder, seen by a Python audit hook
#: (sys.addaudithook: the interpreter reports every open, rename and rmtree to it). argv[3] is the
#: audit event, argv[4] a part of the path it must touch, argv[5] "before" (killed as the operation
#: is about to run) or "after" (killed at the process's next audited event, the operation done).
CHILD_KILLED_AT_FILE_OPERATION = (
    "import os, signal, sys\n"
    "event, part, when = sys.argv[3], sys.argv[4], sys.argv[5]\n"
    "done = []\n"
    "def watch(name, args):\n"
    "    if name == 'os.kill':\n"
    "        return\n"
    "    if done:\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "    if name != event or not args:\n"
    "        return\n"
    "    path = str(args[1] if name == 'os.rename' else args[0])\n"
    "    if part not in path or (name == 'open' and 'w' not in str(args[1])):\n"
    "        return\n"
    "    if when == 'before':\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "    done.append(path)\n"
    "from ingestion.pipelines import make_pipeline, make_source\n"
    "pipeline = make_pipeline('crm', sys.argv[2])\n"
    "source = make_source('crm', sys.argv[1])\n"
    "sys.addaudithook(watch)\n"
    "pipeline.run(source)\n"
)


@dataclass(frozen=True)
class Scenario:
    """The loaded company with a big pending delta, and the raw CRM tables before and after one clean run."""

    pending: Company
    before: dict[str, tuple[int, int]]
    after: dict[str, tuple[int, int]]


def crm_state(company: Company) -> dict[str, tuple[int, int]]:
    """Row count and content checksum of every raw CRM table."""
    return table_fingerprints(company.warehouse, ("raw_crm",))


def load_crm(company: Company) -> dict[str, int]:
    """Run the CRM load in this process as the load asset does; the rows normalized per table."""
    from ingestion.interrupted_loads import finish_interrupted_load
    from ingestion.pipelines import make_pipeline, make_source

    pipeline = make_pipeline("crm", company.warehouse)
    finish_interrupted_load(pipeline)
    pipeline.run(make_source("crm", company.landing))
    info = pipeline.last_trace.last_normalize_info
    return dict(info.row_counts) if info is not None else {}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """A copy of the loaded company with the big delta files, and the result of a clean load of them."""
    root = tmp_path_factory.mktemp("crash")
    pending = loaded_small_company(tmp_path_factory).copy_to(root / "pending")
    for entity in DELTA_ENTITIES:
        full = next((pending.landing / "crm" / entity).glob("*_full-0000.jsonl")).read_bytes()
        newer = full.replace(b'"updatedAt":"2025-', b'"updatedAt":"2026-')
        assert newer != full
        (pending.landing / "crm" / entity / DELTA).write_bytes(newer)
    clean = pending.copy_to(root / "clean")
    load_crm(clean)
    before, after = crm_state(pending), crm_state(clean)
    assert all(before[f"raw_crm.{e}"] != after[f"raw_crm.{e}"] for e in DELTA_ENTITIES)
    return Scenario(pending, before, after)


def working_folder(company: Company) -> Path:
    """dlt's working folder of the CRM pipeline for this warehouse."""
    return company.warehouse.parent / ".dlt_pipelines" / company.warehouse.stem / "spm_crm"


def open_landing_files(pid: int, landing: Path) -> list[str]:
    """Landing files the process ``pid`` holds open."""
    names = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(str(landing)):
                names.append(target)
    except FileNotFoundError:
        pass
    return names


def extracting(company: Company) -> Callable[[int], bool]:
    """True while the child reads a delta file: mid-extract, with earlier files already read."""

    def moment(pid: int) -> bool:
        reading = open_landing_files(pid, company.landing)
        return any(name.endswith(f"calls/{DELTA}") for name in reading)

    return moment


def loading(company: Company) -> Callable[[int], bool]:
    """True while one table's merge is done and another one's is running (a package half loaded)."""
    packages = working_folder(company) / "load" / "normalized"

    def moment(pid: int) -> bool:
        for package in packages.glob("*/"):
            done = list((package / "completed_jobs").glob("*.sql"))
            running = list((package / "started_jobs").glob("*.sql"))
            if done and running:
                return True
        return False

    return moment


def kill_at(company: Company, moment: Callable[[int], bool], timeout_s: float = 240.0) -> None:
    """Run the CRM load in a child and SIGKILL it at ``moment``, checked again while it is frozen."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(company.landing), str(company.warehouse)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout_s
    try:
        while child.poll() is None and time.monotonic() < deadline:
            if moment(child.pid):
                child.send_signal(signal.SIGSTOP)
                if moment(child.pid):
                    child.kill()
                    child.wait()
                    return
                child.send_signal(signal.SIGCONT)
            time.sleep(0.002)
        pytest.fail(f"the load ended (exit code {child.poll()}) before the moment to kill it was seen")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("phase", ["extract", "load"])
def test_load_killed_then_rerun_equals_one_clean_run(scenario: Scenario, tmp_path: Path, phase: str) -> None:
    company = scenario.pending.copy_to(tmp_path)
    kill_at(company, extracting(company) if phase == "extract" else loading(company))

    killed = crm_state(company)
    if phase == "extract":
        assert killed == scenario.before, "nothing is written while extracting"
    else:
        # dlt's package is unfinished: some jobs done, others not. Each table's merge (delete,
        # then insert) runs in one transaction, so every table is either as before or as after
        # one clean run, never half-merged or emptied.
        assert list((working_folder(company) / "load" / "normalized").glob("*/completed_jobs"))
        for table, state in killed.items():
            assert state in (scenario.before.get(table), scenario.after[table]), table

    load_crm(company)
    assert crm_state(company) == scenario.after
    # and the landing files are now loaded for good: another run reads none of them
    rows = load_crm(company)
    assert not {"deals", "calls"} & {table for table, n in rows.items() if n}


@pytest.mark.parametrize(
    ("event", "part", "when"),
    [
        # extracted: the package is committed to normalize/extracted, normalizing has not begun
        ("os.rename", "/normalize/extracted/", "after"),
        # normalizing: the first normalized file is being written to load/new
        ("open", "/load/new/", "before"),
        # committing: load/new/<id> was renamed to load/normalized/<id>, the extracted copy of the
        # package not yet deleted (dlt logs "do not kill this process" here): the package is twice
        ("shutil.rmtree", "/normalize/extracted/", "before"),
    ],
    ids=["extracted", "normalizing", "committing"],
)
def test_killed_between_extract_and_load_then_rerun_equals_one_clean_run(
    scenario: Scenario, tmp_path: Path, event: str, part: str, when: str
) -> None:
    company = scenario.pending.copy_to(tmp_path)
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD_KILLED_AT_FILE_OPERATION,
            str(company.landing),
            str(company.warehouse),
            event,
            part,
            when,
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert crm_state(company) == scenario.before, "nothing is loaded before the load step"
    if event == "shutil.rmtree":
        extracted = {p.name for p in (working_folder(company) / "normalize" / "extracted").glob("*/")}
        normalized = {p.name for p in (working_folder(company) / "load" / "normalized").glob("*/")}
        assert extracted & normalized, "the kill left the package both extracted and normalized"

    load_crm(company)
    assert crm_state(company) == scenario.after
    rows = load_crm(company)
    assert not {"deals", "calls"} & {table for table, n in rows.items() if n}


@pytest.mark.parametrize(
    ("start", "table"),
    [
        ("delta", "pipelines"),  # replaced: staged, then copied over the raw table
        ("delta", "calls"),  # merged: staged, then merged on the key
        ("first load", "calls"),  # appended straight into the empty raw table (first_load.py)
    ],
)
def test_killed_after_a_job_committed_then_rerun_writes_its_rows_once(
    scenario: Scenario, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, start: str, table: str
) -> None:
    if start == "delta":
        company, after = scenario.pending.copy_to(tmp_path), scenario.after
    else:
        loaded = loaded_small_company(tmp_path_factory)
        clean = Company(loaded.landing, tmp_path / "clean" / "w.duckdb")
        load_crm(clean)
        company = Company(loaded.landing, tmp_path / "killed" / "w.duckdb")
        after = crm_state(clean)
    child = subprocess.run(
        [sys.executable, "-c", CHILD_KILLED_AFTER_COMMIT, str(company.landing), str(company.warehouse), table],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    if start == "first load":
        assert crm_state(company)[f"raw_crm.{table}"] == after[f"raw_crm.{table}"], "the rows were committed"

    load_crm(company)
    assert crm_state(company) == after
