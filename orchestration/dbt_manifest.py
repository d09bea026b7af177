"""Preparing the dbt manifest explicitly (CLI, tests, CI) instead of parsing on import."""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from spm import settings

_PROJECT_FILES = ("*.sql", "*.yml", "*.yaml", "*.csv", "*.md")
_OUTPUT_FOLDERS = {"target", "logs", "dbt_packages"}


def manifest_path() -> Path:
    """Where dbt writes the manifest of the project."""
    return settings.DBT_PROJECT_DIR / "target" / "manifest.json"


def parsed_manifest(path: Path) -> Mapping[str, Any]:
    """The manifest at ``path`` as parsed JSON, read once per version of the file: building the
    definitions needs it three times (the two dbt multi-assets, the finance lineage, the freshness
    policies), about 0.1 s a parse. Callers must not modify it."""
    resolved = path.resolve()
    stat = resolved.stat()
    return _parse_manifest(resolved, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _parse_manifest(path: Path, mtime_ns: int, size: int) -> Mapping[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_is_stale() -> bool:
    """True when the manifest is missing or older than a file of the dbt project."""
    manifest = manifest_path()
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _project_files(settings.DBT_PROJECT_DIR))


def _project_files(root: Path) -> Iterator[Path]:
    """The project's source files; dbt's own output folders are not walked into (target/ holds
    one folder per invocation, thousands of files that made this check take a second)."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in _OUTPUT_FOLDERS]
        for name in files:
            if any(fnmatch.fnmatch(name, pattern) for pattern in _PROJECT_FILES):
                yield Path(folder) / name


def ensure_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` when the manifest is missing or stale; return its path."""
    if force or manifest_is_stale():
        command = [settings.dbt_executable(), "parse", "--quiet"]
        result = subprocess.run(
            [*command, "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return manifest_path()
