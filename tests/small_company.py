"""The generated `small` company for robustness tests: generated and loaded once, copied per test.

A test gets its own copy of the landing folder and of a warehouse already holding the full
load (the DuckDB file and dlt's working folder beside it), so it can mutate both freely.
``shutil.copytree`` keeps modification times, so the per-file load state stays valid in the copy.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.pipelines import RAW_DATASETS, make_pipeline, make_source

AS_OF = dt.date(2025, 12, 31)
SEED = 42
RAW = tuple(RAW_DATASETS.values())
#: First batch of the generated company; delta files the tests add sort after it.
FULL_BATCH = "2025-12-31_full"


@dataclass(frozen=True)
class Company:
    """A landing folder and the warehouse it was loaded into."""

    landing: Path
    warehouse: Path

    def copy_to(self, folder: Path) -> Company:
        """A private copy (landing folder, warehouse and dlt state) under ``folder``."""
        landing = folder / "landing"
        shutil.copytree(self.landing, landing)
        shutil.copytree(self.warehouse.parent, folder / "warehouse")
        return Company(landing, folder / "warehouse" / self.warehouse.name)


def load(landing: Path, warehouse: Path, sources: tuple[str, ...] = tuple(RAW_DATASETS)) -> None:
    """Load ``sources`` from ``landing`` into ``warehouse`` with the production pipelines."""
    for name in sources:
        make_pipeline(name, warehouse).run(make_source(name, landing, warehouse))


def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated `small` company (seed 42, as of 2025-12-31), once per session. Do not mutate."""
    from synthetic import generate

    root = tmp_path_factory.getbasetemp() / "small_company"
    landing = root / "landing"
    done = root / "generated"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        generate(landing, "small", SEED, AS_OF)
        done.touch()
    return landing


def loaded_small_company(tmp_path_factory: pytest.TempPathFactory) -> Company:
    """The `small` company loaded by every source into a warehouse, once per session. Do not mutate."""
    landing = small_landing(tmp_path_factory)
    root = tmp_path_factory.getbasetemp() / "small_company_loaded"
    company = Company(landing, root / "warehouse" / "w.duckdb")
    done = root / "loaded"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        load(landing, company.warehouse)
        done.touch()
    return company


def built_small_company(tmp_path_factory: pytest.TempPathFactory) -> Company:
    """The `small` company after one successful ``warehouse_job`` and publish (every model built,
    every check run), once per session, for tests that only read the marts. Do not mutate: a test
    that changes the warehouse takes ``copy_to`` first."""
    from tests.job_runs import run_warehouse_job

    root = tmp_path_factory.getbasetemp() / "small_company_built"
    company = Company(small_landing(tmp_path_factory), root / "warehouse" / "w.duckdb")
    done = root / "built"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        company.warehouse.parent.mkdir(parents=True)
        result = run_warehouse_job(company.landing, company.warehouse)
        if not result.success:
            raise AssertionError("the small company's warehouse_job failed: see the captured log")
        done.touch()
    return company
