"""The expectation suites of ``expectations/``: one JSON suite (GX 1.x) and one SQL frame each.

A suite's ``meta.spm`` says which asset its check belongs to, which raw tables it reads, whether
it validates only the rows loaded since its last passing validation (``scope: load``) or the
whole table (``scope: table``, for small tables), whether a critical failure holds the finance
models back (``blocks_finance``), and the SQL of its runtime parameters (e.g. the known owners).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from core import settings

EXPECTATIONS_DIR = settings.REPO_ROOT / "expectations"


class SuiteFileError(ValueError):
    """A suite file of ``expectations/`` is malformed; the message names the file and field."""


@dataclass(frozen=True)
class Suite:
    """One expectation suite and how it is run."""

    name: str
    version: int
    description: str
    asset: tuple[str, ...]
    raw_tables: tuple[tuple[str, ...], ...]
    frame_sql: str
    scope: str
    blocks_finance: bool
    parameters: dict[str, str]
    expectations: list[dict[str, Any]] = field(repr=False)
    path: Path = field(repr=False, default=Path())

    @property
    def check_name(self) -> str:
        """Name of the Dagster asset check that runs this suite."""
        return f"gx_{self.name}"

    @property
    def scoped_table(self) -> str:
        """``schema.table`` of the raw table whose load ids scope the frame."""
        return ".".join(self.raw_tables[0])

    def gx_suite(self) -> Any:
        """The suite as a Great Expectations ``ExpectationSuite`` (imports GX: slow, call lazily)."""
        import great_expectations as gx

        return gx.ExpectationSuite(name=self.name, expectations=[dict(e) for e in self.expectations])


def load_suite(path: Path) -> Suite:
    """Read one suite file and its frame SQL, with an error naming the file and field."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SuiteFileError(f"file {path}: cannot be read as JSON ({exc})") from exc

    def need(mapping: dict, key: str, where: str) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            raise SuiteFileError(f"file {path}, field '{where}{key}': missing")
        return mapping[key]

    spm = need(need(document, "meta", ""), "spm", "meta.")
    frame_path = path.parent / need(spm, "frame", "meta.spm.")
    if not frame_path.exists():
        raise SuiteFileError(f"file {path}, field 'meta.spm.frame': no file {frame_path.name} beside the suite")
    scope = need(spm, "scope", "meta.spm.")
    if scope not in {"load", "table"}:
        raise SuiteFileError(f"file {path}, field 'meta.spm.scope': '{scope}' is not 'load' or 'table'")
    expectations = need(document, "expectations", "")
    for index, expectation in enumerate(expectations):
        severity = expectation.get("severity", "critical")
        if severity not in {"critical", "warning", "info"}:
            raise SuiteFileError(
                f"file {path}, field 'expectations[{index}].severity': '{severity}' is not critical, warning or info"
            )
    return Suite(
        name=need(document, "name", ""),
        version=int(spm.get("version", 1)),
        description=spm.get("description", ""),
        asset=tuple(need(spm, "asset", "meta.spm.").split("/")),
        raw_tables=tuple(tuple(t.split("/")) for t in need(spm, "raw_tables", "meta.spm.")),
        frame_sql=frame_path.read_text(encoding="utf-8"),
        scope=scope,
        blocks_finance=bool(spm.get("blocks_finance", False)),
        parameters=dict(spm.get("parameters", {})),
        expectations=expectations,
        path=path,
    )


@cache
def load_suites(directory: Path = EXPECTATIONS_DIR) -> tuple[Suite, ...]:
    """Every suite of ``directory``, in name order."""
    return tuple(load_suite(path) for path in sorted(Path(directory).glob("*.json")))
