"""Preparing the dbt manifest explicitly (CLI, tests, CI) instead of parsing on import."""

from __future__ import annotations

import subprocess
from pathlib import Path

from spm import settings

_PROJECT_FILES = ("*.sql", "*.yml", "*.yaml", "*.csv", "*.md")


def manifest_path() -> Path:
    """Where dbt writes the manifest of the project."""
    return settings.DBT_PROJECT_DIR / "target" / "manifest.json"


def manifest_is_stale() -> bool:
    """True when the manifest is missing or older than a file of the dbt project."""
    manifest = manifest_path()
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    root = settings.DBT_PROJECT_DIR
    for pattern in _PROJECT_FILES:
        for path in root.rglob(pattern):
            if "target" in path.relative_to(root).parts or "logs" in path.relative_to(root).parts:
                continue
            if path.stat().st_mtime > built:
                return True
    return False


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
