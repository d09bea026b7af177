"""The semantic layer (dbt semantic models, metrics and saved queries; docs/semantic_layer.md),
queried for a warehouse with MetricFlow's command line, ``mf`` (dbt-metricflow).

``mf`` reads the project's ``target/semantic_manifest.json``, whose tables are named in the
warehouse the project was parsed for, and connects through the project's profile, which reads
``SPM_WAREHOUSE``: so both are prepared for the same warehouse here (:func:`ensure_manifest`).
``mf`` opens the warehouse itself, so it waits for no run: query while no run writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from core import settings
from orchestration.dbt_manifest import ensure_manifest

#: A query's row: metric and group-by name -> value (metrics as Decimal, so that amounts stay
#: exact; ``metric_time__month`` and other time grains as dates; None where MetricFlow returned null).
Row = dict[str, "dt.date | Decimal | str | None"]


class SemanticLayerError(RuntimeError):
    """``mf`` failed: the first line names the cause; the rest is its output."""


def mf_executable() -> str:
    """The ``mf`` installed beside this Python (the project's environment), else ``mf`` on PATH."""
    beside = Path(sys.executable).parent / "mf"
    return os.fspath(beside) if beside.exists() else shutil.which("mf") or "mf"


def _run_mf(arguments: Sequence[str], warehouse: Path) -> subprocess.CompletedProcess[str]:
    warehouse = Path(warehouse).resolve()
    ensure_manifest(warehouse)
    project = os.fspath(settings.DBT_PROJECT_DIR)
    result = subprocess.run(
        [mf_executable(), *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SPM_WAREHOUSE": os.fspath(warehouse), "DBT_PROFILES_DIR": project},
    )
    if result.returncode != 0:
        lines = _readable_lines(f"{result.stdout}\n{result.stderr}")
        raise SemanticLayerError(f"mf {arguments[0]} failed on {warehouse}: {_cause(lines)}\n" + "\n".join(lines))
    return result


def _readable_lines(output: str) -> list[str]:
    """mf's output without its terminal colours and progress spinners."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", output).replace("\r", "\n")
    return [line.strip() for line in text.splitlines() if line.strip() and line.strip()[0] not in _SPINNER]


def _cause(lines: list[str]) -> str:
    """The line that says what failed: a failed validation step, else mf's error and its message."""
    for index, line in enumerate(lines):
        if line.startswith("\u2716"):  # the mark of a validation step with breaking issues
            return line.lstrip("\u2716 ")
        if line.startswith("ERROR"):
            message = next((text for text in lines[index + 1 :] if not text.endswith(":")), "")
            return f"{line} {message}".strip()
    return lines[-1] if lines else "no output"


_SPINNER = frozenset("\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f")


def query(
    warehouse: Path,
    metrics: Sequence[str] = (),
    group_by: Sequence[str] = (),
    saved_query: str | None = None,
    where: Sequence[str] = (),
    order: Sequence[str] = (),
) -> list[Row]:
    """Run ``mf query`` on ``warehouse``: ``metrics`` by ``group_by`` (e.g. ``metric_time__month``,
    ``rep__team``), or a ``saved_query`` by name; ``where`` filters in MetricFlow's syntax."""
    arguments = ["query", "--quiet"]
    if saved_query:
        arguments += ["--saved-query", saved_query]
    if metrics:
        arguments += ["--metrics", ",".join(metrics)]
    if group_by:
        arguments += ["--group-by", ",".join(group_by)]
    for condition in where:
        arguments += ["--where", condition]
    if order:
        arguments += ["--order", ",".join(order)]
    with tempfile.TemporaryDirectory(prefix="spm-mf-") as folder:
        output = Path(folder) / "result.csv"
        _run_mf([*arguments, "--csv", os.fspath(output)], warehouse)
        with output.open(newline="", encoding="utf-8") as rows:
            return [{name: _value(name, value) for name, value in row.items()} for row in csv.DictReader(rows)]


def validate(warehouse: Path) -> str:
    """``mf validate-configs``: the semantic manifest's own rules, then every semantic model,
    dimension, entity, measure and metric queried on ``warehouse``. Returns mf's report."""
    return _run_mf(["validate-configs"], warehouse).stdout


def _value(name: str, text: str | None) -> dt.date | Decimal | str | None:
    """A metric's value as a Decimal, a time dimension's as a date, another dimension's as text
    (names of group-bys hold ``__``, which metric names cannot)."""
    if text is None or text == "":
        return None
    if "__" not in name:
        return Decimal(text)
    if name.split("__")[-1] in _GRAINS:
        return dt.datetime.fromisoformat(text).date()
    return text


_GRAINS = frozenset({"day", "week", "month", "quarter", "year"})
