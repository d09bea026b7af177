"""The serving file: published by the run while BI readers read it, readable by old DuckDB, safe."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from bench.readers import QUERY
from serving.held_back import unvalidated_tables
from serving.parquet import export_parquet
from serving.publish import (
    NEVER_PUBLISHED,
    OLDEST_TESTED_DUCKDB,
    PARTIAL_MARK,
    PublishError,
    check_room,
    publish,
)
from spm.cli import main
from tests.job_runs import run_warehouse_job, summarise_run
from tests.small_company import small_landing

#: Row count and the sum of every numeric column of each table, as text (exact decimals).
TOTALS_SQL = """
select table_schema, table_name,
       list(column_name order by column_name) filter (where data_type like 'DECIMAL%'
            or data_type in ('BIGINT', 'INTEGER', 'HUGEINT', 'SMALLINT')) as numbers
from information_schema.columns
where table_schema in ('marts', 'rejects', 'quality') and table_catalog = current_database()
group by all order by all
"""

#: Computes TOTALS for a DuckDB file with whichever duckdb module is importable; prints JSON.
TOTALS_SCRIPT = f'''
import json, sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
tables = connection.execute("""{TOTALS_SQL}""").fetchall()
result = {{"version": duckdb.__version__, "tables": {{}}}}
for schema, name, numbers in tables:
    if sys.argv[2:] and f"{{schema}}.{{name}}" not in sys.argv[2].split(","):
        continue
    sums = "".join(f", cast(sum(\\"{{c}}\\") as varchar)" for c in (numbers or []))
    row = connection.execute(f'select count(*){{sums}} from "{{schema}}"."{{name}}"').fetchone()
    result["tables"][f"{{schema}}.{{name}}"] = [str(value) for value in row]
print(json.dumps(result))
'''


def totals(database: Path, tables: list[str], python_path: Path | None = None) -> dict:
    """TOTALS of ``tables`` in ``database``, computed in a child process (with an older DuckDB
    first on the path when ``python_path`` is given)."""
    env = {**os.environ, "PYTHONPATH": str(python_path)} if python_path else dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-c", TOTALS_SCRIPT, str(database), ",".join(tables)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def published(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A full run of the small company that publishes to a serving file two BI readers are
    reading: one holding its connection open, one connecting per query."""
    root = tmp_path_factory.mktemp("serving")
    landing, warehouse = root / "landing", root / "warehouse" / "w.duckdb"
    shutil.copytree(small_landing(tmp_path_factory), landing)
    serving = warehouse.with_name("serving.duckdb")
    # what the readers open first: a serving file published from an empty warehouse
    empty = root / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    publish(empty, serving)
    stop, counts = root / "stop", root / "readers.json"
    readers = subprocess.Popen(
        [sys.executable, "-m", "bench.readers", str(serving), str(stop), str(counts)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert readers.stdout.readline().strip() == "reading"
        result = run_warehouse_job(landing, warehouse)
    finally:
        stop.touch()
        readers.wait(timeout=120)
    return {
        "warehouse": warehouse,
        "serving": serving,
        "root": root,
        "result": result,
        "summary": summarise_run(result, warehouse, landing),
        "readers": json.loads(counts.read_text()),
    }


def test_the_run_publishes_while_readers_read(published: dict) -> None:
    summary, readers = published["summary"], published["readers"]
    assert published["result"].success, summary.render()
    for name in ("holding", "connecting"):
        assert readers[name]["queries"] > 0, readers
        assert readers[name]["failed"] == 0, readers[name]["errors"]
    with duckdb.connect(str(published["serving"]), read_only=True) as connection:
        (run_id,) = connection.execute("select run_id from serving_info.publication").fetchone()
        assert connection.execute(QUERY).fetchone()[0] > 20
    assert run_id == published["result"].run_id


def test_the_oldest_duckdb_reads_the_same_rows_and_totals(
    published: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    old = tmp_path_factory.mktemp("old_duckdb")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(old), f"duckdb=={OLDEST_TESTED_DUCKDB}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    with duckdb.connect(str(published["serving"]), read_only=True) as connection:
        tables = [
            f"{s}.{t}"
            for s, t in connection.execute("select table_schema, table_name from serving_info.tables").fetchall()
        ]
    in_old = totals(published["serving"], tables, python_path=old)
    in_warehouse = totals(published["warehouse"], tables)
    assert in_old["version"] == OLDEST_TESTED_DUCKDB
    assert set(in_old["tables"]) == set(tables) and len(tables) > 30
    assert in_old["tables"] == in_warehouse["tables"]
    assert in_old["tables"]["marts.fct_payouts"][0] != "0"


def test_confidential_rows_are_not_published(published: dict) -> None:
    with duckdb.connect(str(published["serving"]), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
        examples = connection.execute(
            "select count(*) filter (where v.asset like 'staging/stg_surveys__%' and examples is not null), "
            "count(*) from quality.expectation_results e join quality.suite_validations v using (validation_id)"
        ).fetchone()
    names = {name for (name,) in tables}
    assert "marts.fct_survey_responses" not in names
    assert not {f"{schema}.{name}" for schema, name in NEVER_PUBLISHED} & names
    assert {name.split(".")[0] for name in names} == {"marts", "rejects", "quality", "serving_info"}
    assert examples[0] == 0 and examples[1] > 0


def test_survey_answers_are_published_when_asked_for(published: dict, tmp_path: Path) -> None:
    serving = tmp_path / "with_answers.duckdb"
    publication = publish(published["warehouse"], serving, survey_answers=True)
    assert "marts.fct_survey_responses" in {table.qualified for table in publication.tables}


def test_a_table_a_test_failed_on_keeps_its_previous_copy(published: dict, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(published["warehouse"], warehouse)
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from marts.dim_teams")
    publication = publish(warehouse, serving, held_back={"marts.dim_teams"})
    kept = {table.qualified: table for table in publication.tables}["marts.dim_teams"]
    assert kept.origin == "previous publish" and kept.rows > 0
    with duckdb.connect(str(serving), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.dim_teams").fetchone()[0] == kept.rows


def test_failed_error_tests_name_their_models() -> None:
    manifest = {
        "nodes": {
            "model.p.dim_teams": {"resource_type": "model", "schema": "marts", "name": "dim_teams", "alias": None},
            "model.p.int_x": {"resource_type": "model", "schema": "intermediate", "name": "int_x", "alias": "int_x"},
            "test.p.not_null_dim_teams_id": {"attached_node": "model.p.dim_teams"},
            "test.p.singular": {"depends_on": {"nodes": ["model.p.int_x"]}},
            "test.p.warned": {"attached_node": "model.p.dim_teams"},
        }
    }
    results = {
        "results": [
            {"unique_id": "test.p.not_null_dim_teams_id", "status": "fail"},
            {"unique_id": "test.p.singular", "status": "error"},
            {"unique_id": "test.p.warned", "status": "warn"},
            {"unique_id": "model.p.dim_teams", "status": "success"},
        ]
    }
    assert unvalidated_tables(results, manifest) == {"marts.dim_teams", "intermediate.int_x"}
    results["results"][0]["status"] = "pass"
    assert unvalidated_tables(results, manifest) == {"intermediate.int_x"}


KILLED_PUBLISH = """
import sys, time
from pathlib import Path
from serving.publish import publish
def stop_here(table):
    Path(sys.argv[3]).touch()
    time.sleep(600)
publish(Path(sys.argv[1]), Path(sys.argv[2]), on_table=stop_here)
"""


def test_a_publish_killed_half_way_leaves_the_previous_file(published: dict, tmp_path: Path) -> None:
    serving = tmp_path / "serving.duckdb"
    publish(published["warehouse"], serving)
    before = serving.read_bytes()
    started = tmp_path / "copying"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISH, str(published["warehouse"]), str(serving), str(started)]
    )
    deadline = time.monotonic() + 300
    while not started.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert started.exists(), "the child publish never reached its first table"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert serving.read_bytes() == before
    assert list(tmp_path.glob(f"serving.duckdb{PARTIAL_MARK}*"))  # the half-written copy
    with duckdb.connect(str(serving), read_only=True) as connection:
        assert connection.execute(QUERY).fetchone()[0] > 20
    publish(published["warehouse"], serving)  # the next publish clears the leftover
    assert not list(tmp_path.glob(f"serving.duckdb{PARTIAL_MARK}*"))


def test_no_room_fails_before_anything_is_replaced(published: dict, tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(PublishError, match=r"no room to publish in /x: 2 MiB needed .*, 1 MiB free"):
        check_room(Path("/x"), 2 * 2**20, free=2**20)
    serving = tmp_path / "serving.duckdb"
    publish(published["warehouse"], serving)
    before = serving.read_bytes()
    monkeypatch.setenv("SPM_PUBLISH_HEADROOM_MB", str(10**12))
    with pytest.raises(PublishError, match=f"no room to publish in {tmp_path}"):
        publish(published["warehouse"], serving)
    assert serving.read_bytes() == before


def test_spm_publish_writes_parquet_and_says_so(published: dict, tmp_path: Path, capsys) -> None:
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(published["warehouse"], warehouse)
    parquet = tmp_path / "parquet"
    stale = parquet / "marts" / "fct_survey_responses.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an answer file from when answers were published")
    assert main(["publish", "--warehouse", str(warehouse), "--parquet", str(parquet), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"to {warehouse.with_name('serving.duckdb')}" in out and f"files in {parquet}" in out
    assert not stale.exists()
    with duckdb.connect() as connection:
        rows = connection.execute(f"select count(*) from '{parquet / 'marts' / 'fct_deals.parquet'}'").fetchone()[0]
        with duckdb.connect(str(warehouse), read_only=True) as source:
            assert rows == source.execute("select count(*) from marts.fct_deals").fetchone()[0]
    assert len(export_parquet(warehouse.with_name("serving.duckdb"), parquet)) == len(list(parquet.glob("*/*.parquet")))


def test_spm_publish_without_room_is_one_line(published: dict, tmp_path: Path, monkeypatch, capsys) -> None:
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(published["warehouse"], warehouse)
    monkeypatch.setenv("SPM_PUBLISH_HEADROOM_MB", str(10**12))
    assert main(["publish", "--warehouse", str(warehouse), "--quiet"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"spm publish: no room to publish in {tmp_path}") and "Traceback" not in error
    assert not warehouse.with_name("serving.duckdb").exists()


READER = "\n".join(
    [
        "import sys, duckdb",
        "c = duckdb.connect(sys.argv[1], read_only=True)",
        "print('open', flush=True)",
        "sys.stdin.readline()",
    ]
)


def test_doctor_names_a_process_holding_the_warehouse(published: dict, capsys) -> None:
    warehouse = published["warehouse"]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        assert main(["doctor", "--warehouse", str(warehouse)]) == 1
        out = capsys.readouterr().out
    finally:
        reader.communicate("\n", timeout=60)
    assert f"PID {reader.pid} (not a writer of this project" in out
    assert "Serving file" in out and "readable by DuckDB 1.1 and later" in out
    assert main(["doctor", "--warehouse", str(warehouse)]) == 0
    capsys.readouterr()
    assert main(["doctor", "--warehouse", str(warehouse.with_name("typo.duckdb"))]) == 2
    assert capsys.readouterr().err.startswith("spm doctor: no warehouse at ")
