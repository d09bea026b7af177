"""A load runs its jobs one at a time when one of its files is large, side by side otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dlt.pipeline.pipeline import Pipeline

from ingestion import load_jobs
from ingestion.load_jobs import LARGE_JOB_BYTES, workers_for
from ingestion.pipelines import make_pipeline, make_source


def test_one_large_file_makes_the_load_run_one_job_at_a_time() -> None:
    assert workers_for([]) is None
    assert workers_for([1, LARGE_JOB_BYTES - 1]) is None
    assert workers_for([1, LARGE_JOB_BYTES]) == 1


@pytest.fixture
def workers_seen(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``workers`` each load of any pipeline runs with."""
    seen: list[Any] = []
    load = Pipeline._load

    def recording(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("workers"))
        return load(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "_load", recording)
    return seen


def _run(tiny_landing: Path, folder: Path) -> dict[str, int]:
    pipeline = make_pipeline("crm", folder / "w.duckdb", pipelines_dir=folder / "pipelines")
    info = pipeline.run(make_source("crm", tiny_landing))
    info.raise_on_failed_jobs()
    return dict(pipeline.last_trace.last_normalize_info.row_counts)


def test_the_pipeline_sizes_its_load_by_the_files_it_extracted(
    tiny_landing: Path, tmp_path: Path, workers_seen: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the tiny company's files are far below the threshold: dlt's own default (20 jobs at once)
    small = _run(tiny_landing, tmp_path / "small")
    assert workers_seen == [20]
    # the same files, with every file counted as large: one job at a time, the same rows loaded
    monkeypatch.setattr(load_jobs, "LARGE_JOB_BYTES", 1)
    large = _run(tiny_landing, tmp_path / "large")
    assert workers_seen == [20, 1]
    assert large == small and small.get("calls", 0) > 0


def test_workers_given_by_the_caller_are_kept(
    tiny_landing: Path, tmp_path: Path, workers_seen: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load_jobs, "LARGE_JOB_BYTES", 1)
    pipeline = make_pipeline("crm", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "pipelines")
    pipeline.extract(make_source("crm", tiny_landing))
    pipeline.normalize()
    pipeline.load(workers=3).raise_on_failed_jobs()
    assert workers_seen == [3]
