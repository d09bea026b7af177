"""dagster-dbt without dbt-core in the run's process: the same definitions, dbt's own selection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestration import dagster_dbt_lean

#: Builds the definitions and prints what they are made of, and whether dbt was imported.
DESCRIBE = """
import json, sys
from pathlib import Path
import orchestration
from orchestration.build import build_definitions

definitions = build_definitions(Path("/nonexistent/w.duckdb"), Path("/nonexistent/landing"))
graph = definitions.resolve_asset_graph()
job = definitions.resolve_job_def("warehouse_job")
print(json.dumps({
    "dbt_imported": "dbt" in sys.modules or "dbt_common" in sys.modules,
    "dbt_hidden": orchestration.dagster_dbt_lean.dbt_hidden(),
    "assets": sorted(
        [key.to_user_string(), sorted(p.to_user_string() for p in graph.get(key).parent_keys)]
        for key in graph.get_all_asset_keys()
    ),
    "checks": sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys),
    "steps": sorted(
        [assets.node_def.name, sorted(k.to_user_string() for k in assets.keys),
         sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in assets.check_keys)]
        for assets in definitions.assets if getattr(assets, "is_executable", False)
    ),
    "job_steps": sorted(node.name for node in job.graph.node_dict.values()),
}))
"""

#: dagster-dbt's stand-ins for dbt-core's enums, and dbt-core's own.
ENUMS = """
import json, sys
import orchestration
from dagster_dbt import compat
stubs = {name: {m.name: m.value for m in getattr(compat, name)} for name in ("NodeType", "NodeStatus", "TestStatus")}
hidden = orchestration.dagster_dbt_lean.dbt_hidden()
import dbt.node_types, dbt.contracts.results  # importable as usual once compat is loaded
real = {
    "NodeType": {m.name: m.value for m in dbt.node_types.NodeType},
    "NodeStatus": {m.name: m.value for m in dbt.contracts.results.NodeStatus},
    "TestStatus": {m.name: m.value for m in dbt.contracts.results.TestStatus},
}
print(json.dumps({
    "hidden": hidden,
    "stubs": stubs,
    "real": real,
    "refable_stub": sorted(str(t) for t in compat.REFABLE_NODE_TYPES),
    "refable_real": sorted(str(t) for t in dbt.node_types.REFABLE_NODE_TYPES),
}))
"""


def _run(code: str, lean: bool) -> dict:
    environment = {**os.environ, dagster_dbt_lean.ENV_SWITCH: "1" if lean else "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_definitions_are_the_same_without_dbt_in_the_process(dbt_manifest: Path) -> None:
    lean = _run(DESCRIBE, lean=True)
    full = _run(DESCRIBE, lean=False)
    assert lean["dbt_hidden"] and not lean["dbt_imported"]
    assert not full["dbt_hidden"] and full["dbt_imported"]
    assert lean["assets"] == full["assets"]
    assert lean["checks"] == full["checks"]
    assert lean["steps"] == full["steps"]
    assert lean["job_steps"] == full["job_steps"]
    steps = {name: keys for name, keys, _ in lean["steps"]}
    assert "marts/mart_commissions_monthly" in steps["dbt_finance"]
    assert "marts/mart_sales_kpis" in steps["dbt_models"]
    assert "marts/mart_commissions_monthly" not in steps["dbt_models"]


def test_dagster_dbts_stand_ins_match_dbt_cores_enums() -> None:
    described = _run(ENUMS, lean=True)
    assert described["hidden"]
    # the members dagster-dbt's event handling names (dbt_cli_event.py); it compares them with
    # the fields of dbt's events as strings, so each must have dbt-core's value
    used = {"NodeType": {"Snapshot", "Test"}, "NodeStatus": {"Success", "Skipped", "Warn"}, "TestStatus": {"Pass"}}
    for name, members in described["stubs"].items():
        real = described["real"][name]
        common = members.keys() & real.keys()  # the stand-ins also know later dbt's (`Reused`)
        assert used[name] <= common, name
        assert {member: members[member] for member in common} == {member: real[member] for member in common}, name
    assert described["refable_stub"] == described["refable_real"]


def test_selection_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[list[tuple[str, str, str]]] = []

    def evaluate(selections, manifest_json, project_dir):
        calls.append(list(selections))
        manifest_id = manifest_json["metadata"].get("invocation_id")
        return {dagster_dbt_lean._selection_key(s): [f"{manifest_id}:{s[0]}"] for s in selections}

    monkeypatch.setattr(dagster_dbt_lean, "evaluate", evaluate)
    project = SimpleNamespace(project_dir=tmp_path, target_path=Path("target"))
    first = {"metadata": {"invocation_id": "one"}}
    select = dagster_dbt_lean.select_unique_ids

    assert select("tag:finance", "", "", project, first) == {"one:tag:finance"}
    assert select("fqn:*", "tag:finance", None, project, first) == {"one:fqn:*"}
    assert len(calls) == 2 and (tmp_path / "target" / dagster_dbt_lean.CACHE_FILE).exists()
    # answered from the file, as a new process would be
    assert select("tag:finance", None, None, project, first) == {"one:tag:finance"}
    assert select("fqn:*", "tag:finance", "", project, first) == {"one:fqn:*"}
    assert len(calls) == 2

    # a new manifest: the first miss evaluates every selection seen before, in one go
    second = {"metadata": {"invocation_id": "two"}}
    assert select("fqn:*", "tag:finance", "", project, second) == {"two:fqn:*"}
    assert len(calls) == 3 and set(calls[2]) == {("fqn:*", "tag:finance", ""), ("tag:finance", "", "")}
    assert calls[2][0] == ("fqn:*", "tag:finance", "")  # the one asked for first
    assert select("tag:finance", "", "", project, second) == {"two:tag:finance"}
    assert select("tag:finance", "", "", project, first) == {"one:tag:finance"}  # older manifests kept
    assert len(calls) == 3

    # another dbt or dagster-dbt version: the file's answers are not used
    monkeypatch.setattr(dagster_dbt_lean, "_versions", lambda: "dbt-core 9, dagster-dbt 9")
    assert select("tag:finance", "", "", project, second) == {"two:tag:finance"}
    assert len(calls) == 4

    # no invocation id, or no project to keep the file in: evaluated every time
    before = len(calls)
    for _ in range(2):
        assert select("tag:finance", "", "", project, {"metadata": {}}) == {"None:tag:finance"}
        assert select("tag:finance", "", "", None, second) == {"two:tag:finance"}
    assert len(calls) == before + 4
    assert [len(c) for c in calls[before:]] == [1, 1, 1, 1]  # nothing seen before is added


def test_selection_evaluated_by_dbt(dbt_manifest: Path) -> None:
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    finance = dagster_dbt_lean.evaluate([("tag:finance", "", "")], manifest, dbt_manifest.parent.parent)
    ids = set(finance[dagster_dbt_lean._selection_key(("tag:finance", "", ""))])
    tagged = {uid for uid, node in manifest["nodes"].items() if "finance" in node.get("tags", [])}
    models = {uid for uid in tagged if uid.startswith("model.")}
    assert models and models <= ids
    assert "model.sales_performance.mart_sales_kpis" not in ids
    with pytest.raises(RuntimeError, match="could not evaluate the selection"):
        dagster_dbt_lean.evaluate([("no_such_method:x", "", "")], manifest, None)
