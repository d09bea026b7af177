"""`spm ui` as a new user starts it: the definitions load with nothing on PATH, no traceback in its
log, and the UI lists the runs `spm run` made, with their materializations and check results."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.tiny_landing import write_tiny_landing

BIN = Path(sys.executable).parent


def user_environment(data: Path) -> dict[str, str]:
    """A shell with nothing of the project's environment on PATH, its data in ``data``."""
    return {"HOME": os.environ.get("HOME", str(data)), "PATH": "/usr/bin:/bin", "SPM_DATA_DIR": str(data)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> tuple[Path, str]:
    """`spm run` on a tiny company, as a user runs it; the data folder and the run's id."""
    data = tmp_path_factory.mktemp("ui_data")
    landing = write_tiny_landing(data / "landing")
    done = subprocess.run(
        [str(BIN / "spm"), "run", "--landing", str(landing)],
        env=user_environment(data),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = done.stdout.split("Dagster run ")[1].split()[0]
    return data, run_id


def test_the_ui_lists_the_runs_spm_run_made(recorded_run: tuple[Path, str], tmp_path: Path) -> None:
    data, run_id = recorded_run
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("w") as output:
        ui = subprocess.Popen(
            [str(BIN / "spm"), "ui", "--port", str(port)],
            env=user_environment(data),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        workspace = None
        while time.monotonic() < deadline and ui.poll() is None:
            try:
                workspace = graphql(
                    port,
                    "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                    "locationOrLoadError { __typename ... on PythonError { message } } } } } }",
                )
                entries = workspace["workspaceOrError"]["locationEntries"]
                if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, TypeError):
                pass
            time.sleep(1)
        assert ui.poll() is None, log.read_text()
        (location,) = workspace["workspaceOrError"]["locationEntries"]
        assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation", location

        runs = graphql(port, "{ runsOrError { ... on Runs { results { runId status jobName } } } }")
        listed = {run["runId"]: run for run in runs["runsOrError"]["results"]}
        assert listed[run_id]["status"] == "SUCCESS" and listed[run_id]["jobName"] == "warehouse_job"

        deals = graphql(
            port,
            '{ assetOrError(assetKey: {path: ["raw_crm", "deals"]}) { ... on Asset { assetMaterializations(limit: 1) '
            "{ runId metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }",
        )
        (latest,) = deals["assetOrError"]["assetMaterializations"]
        metadata = {entry["label"]: entry.get("intValue") for entry in latest["metadataEntries"]}
        assert latest["runId"] == run_id
        assert metadata["rows_loaded"] == 2 and metadata["dagster/row_count"] == 2

        model = graphql(
            port,
            '{ assetOrError(assetKey: {path: ["marts", "fct_deals"]}) { ... on Asset { assetMaterializations(limit: 1) '
            "{ runId metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }",
        )
        (built,) = model["assetOrError"]["assetMaterializations"]
        assert {entry["label"]: entry.get("intValue") for entry in built["metadataEntries"]}["dagster/row_count"] == 2

        checks = graphql(
            port,
            '{ assetNodes(assetKeys: [{path: ["quality", "suite_validations"]}]) { assetChecksOrError { '
            "... on AssetChecks { checks { name description "
            "executionForLatestMaterialization { runId status } } } } } }",
        )
        suites = checks["assetNodes"][0]["assetChecksOrError"]["checks"]
        deals_suite = next(check for check in suites if check["name"] == "gx_crm_deals")
        assert "expectations/crm_deals.json" in deals_suite["description"]
        assert deals_suite["executionForLatestMaterialization"] == {"runId": run_id, "status": "SUCCEEDED"}
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait(60)
    text = log.read_text()
    assert "Traceback" not in text, text
    assert "Serving dagster-webserver" in text
