"""Which tables a dbt build left unvalidated: read from the build's own artifacts.

``dbt build`` runs a model's tests right after the model; a test of severity ``error`` that
fails (or cannot run) leaves the model built with rows that did not pass. The publish keeps the
previous serving copy of such a table. Only dbt's documented artifacts are read:
``run_results.json`` (each node's status) and ``manifest.json`` (what each test is attached to).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: Statuses of a test that did not pass at severity error (``warn`` is a warning, not a failure).
FAILED_TEST_STATUSES = frozenset({"fail", "error"})


def unvalidated_tables(run_results: dict[str, Any], manifest: dict[str, Any]) -> set[str]:
    """``schema.table`` of every model a failed error-severity test of this build is about."""
    nodes = manifest.get("nodes", {})
    tables = set()
    for result in run_results.get("results", []):
        unique_id = result.get("unique_id", "")
        if not unique_id.startswith("test.") or result.get("status") not in FAILED_TEST_STATUSES:
            continue
        test = nodes.get(unique_id, {})
        attached = test.get("attached_node")
        models = [attached] if attached else test.get("depends_on", {}).get("nodes", [])
        for model_id in models:
            model = nodes.get(model_id or "")
            if model and model.get("resource_type") in ("model", "seed", "snapshot"):
                tables.add(f"{model['schema']}.{model.get('alias') or model['name']}")
    return tables


def unvalidated_tables_of(invocation: Path) -> set[str]:
    """:func:`unvalidated_tables` of a dbt invocation folder (its ``target``); empty without artifacts."""
    results, manifest = invocation / "run_results.json", invocation / "manifest.json"
    if not results.is_file() or not manifest.is_file():
        return set()
    return unvalidated_tables(json.loads(results.read_text()), json.loads(manifest.read_text()))
