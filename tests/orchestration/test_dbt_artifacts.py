"""Warm dbt commands that build leave ``manifest.json`` unwritten; other commands write it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: Runs dbt command argv[3] on the project in argv[1] into target folder argv[4], patched when
#: argv[2] is "patched"; prints the parent map dbt's run left on the manifest.
COMMAND = textwrap.dedent(
    """
    import json, sys
    from orchestration import dbt_artifacts
    if sys.argv[2] == "patched":
        assert dbt_artifacts.skip_manifest_writes()
        from dbt.parser import manifest as manifest_parser
        installed = manifest_parser.write_manifest
        assert dbt_artifacts.skip_manifest_writes()  # installing twice is harmless:
        assert manifest_parser.write_manifest is installed  # not wrapped again
    from dbt.cli.main import dbtRunner
    project = sys.argv[1]
    result = dbtRunner().invoke([*sys.argv[3].split(), "--project-dir", project, "--profiles-dir", project,
                                 "--target-path", sys.argv[4], "--quiet"])
    sys.exit(0 if result.success else 1)
    """
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model, a model built from it and a test on the second."""
    project = tmp_path_factory.mktemp("artifacts")
    (project / "dbt_project.yml").write_text(
        "name: artifacts\nversion: '1.0'\nprofile: artifacts\nmodel-paths: [models]\n"
    )
    (project / "profiles.yml").write_text(
        f"artifacts:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {project / 'w.duckdb'}\n"
    )
    models = project / "models"
    models.mkdir()
    (models / "base.sql").write_text("select 1 as x")
    (models / "top.sql").write_text("select x from {{ ref('base') }}")
    (models / "top.yml").write_text(
        "models:\n  - name: top\n    columns:\n      - name: x\n        data_tests: [not_null]\n"
    )
    return project


def _invoke(project: Path, mode: str, command: str) -> Path:
    target = project / f"target-{mode}-{command.split()[0]}"
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, str(project), mode, command, str(target)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def test_a_patched_build_writes_its_results_but_no_manifest(project: Path) -> None:
    target = _invoke(project, "patched", "build")
    assert not (target / "manifest.json").exists()
    assert not (target / "semantic_manifest.json").exists()
    results = json.loads((target / "run_results.json").read_text())["results"]
    # the test ran after its model: dbt's graph (built from the maps) is intact
    assert [(r["unique_id"].split(".")[2], r["status"]) for r in results] == [
        ("base", "success"),
        ("top", "success"),
        ("not_null_top_x", "pass"),
    ]
    assert (target / "partial_parse.msgpack").exists()  # the next command's parse still starts from it


@pytest.mark.parametrize("command", ["parse", "compile"])
def test_other_commands_write_the_manifest_when_patched(project: Path, command: str) -> None:
    manifest = json.loads((_invoke(project, "patched", command) / "manifest.json").read_text())
    assert manifest["parent_map"]["model.artifacts.top"] == ["model.artifacts.base"]


def test_unpatched_build_writes_the_manifest(project: Path) -> None:
    assert (_invoke(project, "as_dbt", "build") / "manifest.json").exists()
