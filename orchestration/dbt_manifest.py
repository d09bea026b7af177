"""Preparing the dbt manifest explicitly (the command line, tests, `spm ui`) instead of on import.

dagster-dbt reads the manifest to build the assets, and copies the project's
``target/partial_parse.msgpack`` into each invocation's folder so that dbt does not parse the whole
project again. dbt keeps that state only while the profile is the one it was parsed with, and
the profile names the warehouse (``SPM_WAREHOUSE``) and the DuckDB settings taken from the
environment. So the manifest is prepared for a warehouse: ``dbt parse`` runs again when a file of
the project changed since, or when the last parse was for another warehouse or other settings
(``target/spm_parse.json`` records which). Otherwise every dbt build on another warehouse than
the last parse's parsed the whole project (about 7 s instead of 1 s).

The parse also leaves ``target/semantic_manifest.json``, which MetricFlow's ``mf`` reads
(docs/semantic_layer.md): its tables are named in the warehouse parsed for.
"""

from __future__ import annotations

import fcntl
import fnmatch
import functools
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from core import settings

_PROJECT_FILES = ("*.sql", "*.yml", "*.yaml", "*.csv", "*.md")
_OUTPUT_FOLDERS = {"target", "logs", "dbt_packages"}
#: A scratch folder of a parse older than this was left by a killed process (seconds).
STALE_SCRATCH_S = 3600
#: dbt's parse state in a target folder.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
#: The semantic layer's definitions, written by each parse; ``mf`` reads it from ``target/``.
SEMANTIC_MANIFEST_FILE = "semantic_manifest.json"
#: Environment variables the profile reads (dbt_project/profiles.yml).
PROFILE_VARIABLES = ("SPM_DUCKDB_MEMORY_LIMIT", "SPM_DBT_THREADS")


class ManifestError(RuntimeError):
    """``dbt parse`` failed: the project has an error; the message carries dbt's own lines."""


def manifest_path() -> Path:
    """Where dbt writes the manifest of the project."""
    return settings.DBT_PROJECT_DIR / "target" / "manifest.json"


def _parse_key_path() -> Path:
    return settings.DBT_PROJECT_DIR / "target" / "spm_parse.json"


def parsed_manifest(path: Path) -> Mapping[str, Any]:
    """The manifest at ``path`` as parsed JSON, read once per version of the file (the dbt
    assets, the freshness checks and the run summary all need it). Callers must not modify it."""
    resolved = path.resolve()
    stat = resolved.stat()
    return _parse_manifest(resolved, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _parse_manifest(path: Path, mtime_ns: int, size: int) -> Mapping[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def parse_key(warehouse: Path) -> dict[str, str]:
    """What dbt's parse state depends on besides the project's files: the warehouse, the
    profile's environment variables and dbt's version."""
    key = {"warehouse": os.fspath(Path(warehouse).resolve()), "dbt-core": version("dbt-core")}
    key.update({name: os.environ.get(name, "") for name in PROFILE_VARIABLES})
    return key


def manifest_is_stale(warehouse: Path | None = None) -> bool:
    """True when the manifest is missing, older than a file of the dbt project, or (with a
    ``warehouse``) parsed for another warehouse or other profile settings."""
    if not manifest_describes_project():
        return True
    if warehouse is not None:
        try:
            recorded = json.loads(_parse_key_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return True
        if recorded != parse_key(warehouse):
            return True
    return False


def manifest_describes_project() -> bool:
    """True when the manifest exists and no file of the dbt project is newer: the definitions can
    be built from it, whichever warehouse it was parsed for (only dbt's parse state depends on that)."""
    manifest = manifest_path()
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return not any(path.stat().st_mtime > built for path in _project_files(settings.DBT_PROJECT_DIR))


def _project_files(root: Path) -> Iterator[Path]:
    """The project's source files; dbt's own output folders are not walked into."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in _OUTPUT_FOLDERS]
        for name in files:
            if any(fnmatch.fnmatch(name, pattern) for pattern in _PROJECT_FILES):
                yield Path(folder) / name


def ensure_manifest(warehouse: Path | None = None, force: bool = False) -> Path:
    """Run ``dbt parse`` for ``warehouse`` (default: the configured one) when the manifest is
    missing or stale (:func:`manifest_is_stale`); return the manifest's path.

    Raises :class:`ManifestError` with dbt's output when the project does not parse.
    """
    warehouse = Path(warehouse or settings.warehouse_path()).resolve()
    if not (force or manifest_is_stale(warehouse)):
        return manifest_path()
    target = settings.DBT_PROJECT_DIR / "target"
    target.mkdir(parents=True, exist_ok=True)
    # one parse at a time (`spm ui` loading its definitions while `spm run` starts, say); the
    # second finds the manifest fresh once the first is done
    with (target / "spm_parse.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if force or manifest_is_stale(warehouse):
                _parse(warehouse)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return manifest_path()


def _parse(warehouse: Path) -> None:
    """``dbt parse`` for ``warehouse`` into a scratch folder, its manifest and parse state then
    moved into ``target/`` (each move atomic), so that a reader never sees a half-written file."""
    project = os.fspath(settings.DBT_PROJECT_DIR)
    target = settings.DBT_PROJECT_DIR / "target"
    for stale in target.glob(".parse-*"):  # left by a process killed while it parsed
        if time.time() - stale.stat().st_mtime > STALE_SCRATCH_S:
            shutil.rmtree(stale, ignore_errors=True)
    scratch = target / f".parse-{uuid.uuid4().hex[:12]}"
    scratch.mkdir(parents=True)
    try:
        state = target / PARTIAL_PARSE_FILE
        if state.exists():  # dbt reads it from the target folder it is given
            shutil.copyfile(state, scratch / PARTIAL_PARSE_FILE)
        command = [settings.dbt_executable(), "parse", "--quiet", "--target-path", os.fspath(scratch)]
        result = subprocess.run(
            [*command, "--project-dir", project, "--profiles-dir", project],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "SPM_WAREHOUSE": os.fspath(warehouse)},
        )
        if result.returncode != 0:
            output = "\n".join(part for part in (result.stdout.strip(), result.stderr.strip()) if part)
            lines = [line.strip() for line in output.splitlines() if line.strip()]
            cause = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "no output")
            raise ManifestError(f"dbt parse failed for {project}: {cause}\n{output}")
        os.replace(scratch / PARTIAL_PARSE_FILE, state)
        # before the manifest, whose time says the parse is current
        os.replace(scratch / SEMANTIC_MANIFEST_FILE, target / SEMANTIC_MANIFEST_FILE)
        os.replace(scratch / "manifest.json", manifest_path())
        _parse_key_path().write_text(json.dumps(parse_key(warehouse), indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
