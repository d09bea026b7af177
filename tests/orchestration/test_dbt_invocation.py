"""Housekeeping around dbt invocations: old invocation folders are pruned."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.dbt_invocation import prune_invocation_folders


def test_only_the_newest_invocation_folders_are_kept(tmp_path: Path) -> None:
    names = [f"dbt_models-0000000{i}-abcdef0{i}" for i in range(5)]
    for age, name in enumerate(reversed(names)):
        folder = tmp_path / name
        (folder / "compiled").mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
    kept_apart = [tmp_path / "partial_parse", tmp_path / "manifest.json"]
    kept_apart[0].mkdir()
    kept_apart[1].write_text("{}")

    deleted = prune_invocation_folders(tmp_path, keep=2)

    assert sorted(p.name for p in deleted) == sorted(names[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], "partial_parse", "manifest.json"])
