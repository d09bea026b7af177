"""dagster-dbt in the run's process without importing dbt-core there.

dbt runs in processes of its own (the warm dbt process, or ``dbt`` itself), so the Dagster
process needs dbt-core only for what dagster-dbt imports from it: five names in
``dagster_dbt.compat`` (its version, three string enums and a list of node types) and dbt's
selection engine, which ``@dbt_assets(select=..., exclude=...)`` runs over the manifest when the
definitions are built. Importing dbt for that took 1.2-1.7 s of every run, before its first step.

dagster-dbt supports an environment without dbt-core (for dbt Fusion): ``compat`` then defines
the same enums itself, with the same string values (the events compare strings). This module
lets ``compat`` see no dbt-core while it is imported, in a process that has not imported dbt yet,
and then answers dagster-dbt's selection from a cache, keyed by the manifest's invocation id:

- a selection not in the cache is evaluated by dagster-dbt with dbt-core in a short-lived process
  (``python -m orchestration.dagster_dbt_lean``), so its result is exactly dbt's, and that process
  also re-evaluates the selections the cache has seen before (after ``dbt parse`` writes a new
  manifest, one process for all of them: 2-3 s, once);
- the cache is a JSON file beside the manifest (``target/dagster_dbt_selections.json``).

Anything that imports dbt later in the process gets it as usual: only ``compat``'s own imports
are answered "not installed". ``SPM_DAGSTER_DBT_LEAN=0`` turns all of this off; so does a process
that imported dbt before dagster-dbt (nothing to save then). It is installed by
``orchestration/__init__.py``, before any module of the project imports dagster-dbt.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

#: ``0`` keeps dagster-dbt's own import of dbt-core and its in-process selection.
ENV_SWITCH = "SPM_DAGSTER_DBT_LEAN"
#: File name of the selection cache, in the dbt project's target folder.
CACHE_FILE = "dagster_dbt_selections.json"
#: Manifests (invocation ids) whose selections the cache file keeps, the newest first.
MANIFESTS_KEPT = 8
#: Selections re-evaluated together when a new manifest misses the cache.
SELECTIONS_KEPT = 32

_COMPAT = "dagster_dbt.compat"
_UTILS = "dagster_dbt.utils"

Selection = tuple[str, str, str]  # select, exclude, selector


def enabled() -> bool:
    """Whether ``SPM_DAGSTER_DBT_LEAN`` allows the lean import (anything but ``0``)."""
    return os.environ.get(ENV_SWITCH, "1") != "0"


def _is_dbt(name: str) -> bool:
    return name in ("dbt", "dbt_common") or name.startswith(("dbt.", "dbt_common."))


class _WrappedLoader(importlib.abc.Loader):
    """A module's own loader with work done before and after the module's code runs."""

    def __init__(self, inner: importlib.abc.Loader, before: Callable[[], None], after: Callable[[ModuleType], None]):
        self._inner, self._before, self._after = inner, before, after

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._before()
        try:
            self._inner.exec_module(module)
        finally:
            self._after(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_data, ... (tracebacks, inspect)
        return getattr(self._inner, name)


class _LeanFinder(importlib.abc.MetaPathFinder):
    """Wraps the loaders of ``dagster_dbt.compat`` and ``dagster_dbt.utils``; while ``compat``
    runs (in the thread importing it), dbt-core's modules are not found."""

    def __init__(self) -> None:
        self.hid_dbt = False  # whether compat was imported without dbt-core
        self._hiding_thread: int | None = None

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None):
        if _is_dbt(name):
            if self._hiding_thread == threading.get_ident():
                raise ModuleNotFoundError(f"No module named {name!r} (hidden from dagster-dbt)", name=name)
            return None
        if name == _COMPAT and enabled() and "dbt" not in sys.modules:
            return self._wrapped(name, path, target, self._hide, self._shown)
        if name == _UTILS and enabled() and "dbt" not in sys.modules:  # utils imports compat first
            return self._wrapped(name, path, target, lambda: None, self._answer_if_hidden)
        return None

    def _wrapped(self, name: str, path, target, before: Callable[[], None], after: Callable[[ModuleType], None]):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _WrappedLoader(spec.loader, before, after)
                return spec
        return None

    def _hide(self) -> None:
        self._hiding_thread = threading.get_ident()

    def _shown(self, module: ModuleType) -> None:
        self._hiding_thread = None
        self.hid_dbt = getattr(module, "DBT_PYTHON_VERSION", object()) is None

    def _answer_if_hidden(self, utils: ModuleType) -> None:
        if self.hid_dbt:
            _answer_selections_from_cache(utils)


_finder: _LeanFinder | None = None


def install() -> bool:
    """Install the import hook (once per process); whether it is in place."""
    global _finder
    if _finder is None:
        if "dagster_dbt" in sys.modules or not enabled():
            return False
        _finder = _LeanFinder()
        sys.meta_path.insert(0, _finder)
    return True


def dbt_hidden() -> bool:
    """Whether this process's dagster-dbt was imported without dbt-core."""
    return _finder is not None and _finder.hid_dbt


def _answer_selections_from_cache(utils: ModuleType) -> None:
    """After ``dagster_dbt.utils`` ran: its ``select_unique_ids`` (which modules importing it later
    bind) answers from the cache."""
    if getattr(utils, "select_unique_ids", None) is not None:
        utils.select_unique_ids = select_unique_ids


def select_unique_ids(
    select: str, exclude: str | None, selector: str | None, project: Any, manifest_json: Mapping[str, Any]
) -> set[str]:
    """dagster-dbt's ``select_unique_ids``, evaluated by dbt-core in another process and cached."""
    selection: Selection = (select or "", exclude or "", selector or "")
    manifest_id = (manifest_json.get("metadata") or {}).get("invocation_id")
    project_dir = Path(project.project_dir) if project is not None else None
    cache = _cache_file(project) if manifest_id else None
    stored = _read_cache(cache) if cache else {}
    key = _selection_key(selection)
    if manifest_id and key in stored.get("manifests", {}).get(manifest_id, {}):
        return set(stored["manifests"][manifest_id][key])
    wanted = [selection]
    if manifest_id:  # what the cache saw before is likely asked next (the same definitions)
        wanted += [tuple(json.loads(seen)) for seen in stored.get("selections", []) if seen != key]
    results = evaluate(wanted[:SELECTIONS_KEPT], manifest_json, project_dir)
    if cache and manifest_id:
        _write_cache(cache, manifest_id, results)
    return set(results[key])


def _selection_key(selection: Selection) -> str:
    return json.dumps(list(selection))


def _versions() -> str:
    return f"dbt-core {importlib.metadata.version('dbt-core')}, dagster-dbt {importlib.metadata.version('dagster-dbt')}"


def _cache_file(project: Any) -> Path | None:
    if project is None:
        return None
    target = Path(getattr(project, "target_path", "target"))
    return (target if target.is_absolute() else Path(project.project_dir) / target) / CACHE_FILE


def _read_cache(path: Path) -> dict:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) and stored.get("versions") == _versions() else {}


def _write_cache(path: Path, manifest_id: str, results: Mapping[str, list[str]]) -> None:
    """Merge ``results`` for ``manifest_id`` into the cache file (written whole, atomically: a
    concurrent writer at worst loses the other's entries, which are evaluated again)."""
    stored = _read_cache(path)
    manifests = {manifest_id: {**stored.get("manifests", {}).get(manifest_id, {}), **results}}
    for other, entries in stored.get("manifests", {}).items():
        if other != manifest_id and len(manifests) < MANIFESTS_KEPT:
            manifests[other] = entries
    selections = list(dict.fromkeys([*results, *stored.get("selections", [])]))[:SELECTIONS_KEPT]
    payload = {"versions": _versions(), "selections": selections, "manifests": manifests}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        staging.write_text(json.dumps(payload), encoding="utf-8")
        staging.replace(path)
    except OSError:
        pass  # a read-only project: each process evaluates its selections again


def evaluate(selections: Sequence[Selection], manifest_json: Mapping[str, Any], project_dir: Path | None) -> dict:
    """Each selection's unique ids, evaluated by dagster-dbt with dbt-core in a child process."""
    with tempfile.TemporaryDirectory(prefix="spm-selection-") as folder:
        manifest = Path(folder) / "manifest.json"
        manifest.write_text(json.dumps(manifest_json), encoding="utf-8")
        request = Path(folder) / "request.json"
        request.write_text(
            json.dumps({"selections": [list(s) for s in selections], "project_dir": str(project_dir or "")}),
            encoding="utf-8",
        )
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.dagster_dbt_lean", str(manifest), str(request)],
            env={**os.environ, ENV_SWITCH: "0"},
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        select, exclude, selector = selections[0]
        raise RuntimeError(
            f"dbt could not evaluate the selection select={select!r} exclude={exclude!r} selector={selector!r}:"
            f"\n{(done.stderr or done.stdout).strip()[-4000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _main(manifest_path: str, request_path: str) -> None:
    """In the child process: evaluate the requested selections with dagster-dbt and dbt-core and
    print them as one line of JSON. The first is the one asked for: dbt rejecting it fails the
    request; one seen before that this manifest no longer allows (a selector removed) is left out."""
    from dagster_dbt.utils import select_unique_ids as dbt_select_unique_ids

    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    project = SimpleNamespace(project_dir=Path(request["project_dir"])) if request["project_dir"] else None
    results = {}
    for position, (select, exclude, selector) in enumerate(request["selections"]):
        try:
            ids = dbt_select_unique_ids(select, exclude, selector, project, manifest)
        except Exception:
            if position == 0:
                raise
            continue
        results[_selection_key((select, exclude, selector))] = sorted(ids)
    sys.stdout.write("\n" + json.dumps(results) + "\n")


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
