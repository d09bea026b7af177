"""dbt hands a free thread the ready node that heads the longest chain (warm commands only)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest

from orchestration.dbt_scheduling import _first_runnable_on_top, longest_chains

#: Runs ``dbt run --threads 1`` on the project in argv[1], after installing argv[2]'s patches.
RUN = textwrap.dedent(
    """
    import sys
    from orchestration import dbt_scheduling
    if sys.argv[2] == "patched":
        assert dbt_scheduling.prioritise_longest_chains()
        assert dbt_scheduling.prioritise_longest_chains()  # installing twice is harmless
    from dbt.cli.main import dbtRunner
    project = sys.argv[1]
    result = dbtRunner().invoke(["run", "--threads", sys.argv[3], "--project-dir", project, "--profiles-dir", project,
                                 "--target-path", project + "/target-" + sys.argv[2], "--quiet"])
    sys.exit(0 if result.success else 1)
    """
)


def test_longest_chains_count_nodes_to_the_end() -> None:
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c"), ("x", "c"), ("c", "d")])
    graph.add_node("alone")
    assert longest_chains(graph) == {"a": 4, "b": 3, "x": 3, "c": 2, "d": 1, "alone": 1}


@pytest.fixture(scope="module")
def chain_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two lone models (a, b) and a chain z1 -> z2 -> z3, all ready at the start but z2 and z3."""
    project = tmp_path_factory.mktemp("chains")
    (project / "dbt_project.yml").write_text("name: chains\nversion: '1.0'\nprofile: chains\nmodel-paths: [models]\n")
    (project / "profiles.yml").write_text(
        f"chains:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {project / 'w.duckdb'}\n"
    )
    models = project / "models"
    models.mkdir()
    for name, sql in {
        "a": "select 1 as x",
        "b": "select 1 as x",
        "z1": "select 1 as x",
        "z2": "select x from {{ ref('z1') }}",
        "z3": "select x from {{ ref('z2') }}",
    }.items():
        (models / f"{name}.sql").write_text(sql)
    return project


def _run(project: Path, mode: str, threads: int = 1) -> list[dict]:
    """``dbt run`` on ``project`` with or without the patches; its results, in completion order."""
    command = [sys.executable, "-c", RUN, str(project), mode, str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((project / f"target-{mode}" / "run_results.json").read_text())["results"]


def _order(project: Path, mode: str) -> list[str]:
    return [result["unique_id"].split(".")[-1] for result in _run(project, mode)]  # one thread: in running order


def test_a_free_thread_takes_the_longest_chain_first(chain_project: Path) -> None:
    # dbt's own order: every ready node to the pool at once, by depth then name
    assert _order(chain_project, "as_dbt") == ["a", "b", "z1", "z2", "z3"]
    # the chain's head first; once it is done, z2 (chain of 2) goes before the lone models, and
    # z3 (chain of 1, like a and b) after them, being deeper. Choosing only when the thread is
    # free matters: handed out at once, a and b would have queued before z2.
    assert _order(chain_project, "patched") == ["z1", "z2", "a", "b", "z3"]


def test_two_memory_heavy_models_never_run_together(tmp_path: Path) -> None:
    """On two threads, h1 and h2 (both ``memory_heavy``) are ready together with a light model:
    one heavy model runs beside the light one, the other only once the first is done."""
    project = tmp_path / "heavy"
    models = project / "models"
    models.mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: heavy\nversion: '1.0'\nprofile: heavy\nmodel-paths: [models]\n")
    (project / "profiles.yml").write_text(
        f"heavy:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {project / 'w.duckdb'}\n"
    )
    busy = "select count(*) as x from range(30000000) as t(i) where i % 7 = 3"
    for name in ("h1", "h2"):
        (models / f"{name}.sql").write_text("{{ config(meta={'memory_heavy': true}) }}\n" + busy)
    (models / "light.sql").write_text(busy)
    windows = {
        result["unique_id"].split(".")[-1]: next(t for t in result["timing"] if t["name"] == "execute")
        for result in _run(project, "patched", threads=2)
    }
    first, second = sorted(("h1", "h2"), key=lambda name: windows[name]["started_at"])
    assert windows[second]["started_at"] >= windows[first]["completed_at"]
    assert windows["light"]["started_at"] < windows[first]["completed_at"]  # the other thread was not idle


def test_the_queue_puts_a_runnable_node_first_without_new_tasks() -> None:
    import queue

    ready: queue.PriorityQueue = queue.PriorityQueue()
    for item in [((-5, 0), "heavy_b"), ((-4, 0), "light"), ((-6, 0), "heavy_a")]:
        ready.put(item)
    tasks = ready.unfinished_tasks
    heavy = frozenset({"heavy_a", "heavy_b", "heavy_x"})
    assert _first_runnable_on_top(ready, heavy, in_progress=set())  # nothing heavy runs: best first
    assert ready.queue[0][1] == "heavy_a"
    assert _first_runnable_on_top(ready, heavy, in_progress={"heavy_x"})
    assert ready.queue[0][1] == "light" and ready.unfinished_tasks == tasks
    assert ready.get()[1] == "light"
    assert not _first_runnable_on_top(ready, heavy, in_progress={"heavy_x"})  # only heavy ones left: wait
    assert not _first_runnable_on_top(queue.PriorityQueue(), heavy, in_progress=set())  # nothing ready
