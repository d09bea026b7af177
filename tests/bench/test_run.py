"""The benchmark's bookkeeping: which targets apply, which are missed and what holds them back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.memory import PeakMemory, tree_rss_bytes
from bench.run import GIB, NotEnoughSpace, check_free_space, evaluate_targets, render


def result(scale: str, full_wall: float, dbt_s: float, load_s: float, inc_wall: float, peak: float) -> dict:
    steps = {"dbt_build": dbt_s, "load_crm": load_s}
    return {
        "scale": scale,
        "seed": 42,
        "machine": {"cpus": 2, "platform": "test"},
        "generation_s": 1.0,
        "delta_generation_s": 1.0,
        "ingestion_to_floor_ratio": 3.0,
        "floor": {"seconds": 1.0},
        "full": {
            "steps_s": steps,
            "ingestion_s": load_s,
            "process_wall_s": full_wall,
            "peak_rss_gib": peak,
            "rows_loaded": {"raw_crm/deals": 10},
            "dbt": {},
        },
        "incremental": {
            "steps_s": steps,
            "ingestion_s": load_s,
            "process_wall_s": inc_wall,
            "peak_rss_gib": 1.0,
            "rows_touched": 1,
            "wall_ratio_to_full": round(inc_wall / full_wall, 3),
            "dbt": {},
        },
    }


def test_large_targets_name_the_stage_that_holds_them_back() -> None:
    doc = result("large", full_wall=400.0, dbt_s=250.0, load_s=120.0, inc_wall=60.0, peak=6.0)
    targets = {t["target"]: t for t in evaluate_targets(doc)}
    assert set(targets) == {
        "ingestion within 2x of DuckDB's readers",
        "large full run under 3 minutes",
        "large peak memory under 4 GiB",
        "incremental under 30 s",
    }
    assert not targets["large full run under 3 minutes"]["met"]
    assert targets["large full run under 3 minutes"]["holds_back"] == "dbt build"
    assert not targets["ingestion within 2x of DuckDB's readers"]["met"]
    assert targets["large peak memory under 4 GiB"]["holds_back"] == "unknown"  # no per-step readings
    doc["targets"] = list(targets.values())
    assert "MISSED (held back by dbt build)" in render(doc)


def test_medium_target_only_applies_to_medium() -> None:
    targets = evaluate_targets(result("medium", full_wall=60.0, dbt_s=30.0, load_s=15.0, inc_wall=45.0, peak=2.0))
    medium = [t for t in targets if t["target"] == "medium full run under 45 s"]
    assert medium and not medium[0]["met"]
    assert not any("large" in t["target"] for t in targets)


def test_memory_of_this_process_is_measured() -> None:
    assert tree_rss_bytes(os.getpid()) > 10 * 1024 * 1024
    assert tree_rss_bytes(2**22 + 12345) == 0  # no such process


def test_checks_are_a_stage_of_their_own() -> None:
    from bench.run import _ingestion_seconds

    doc = result("large", full_wall=400.0, dbt_s=50.0, load_s=60.0, inc_wall=60.0, peak=3.0)
    doc["full"]["steps_s"] = {
        "load_crm": 60.0,
        "dbt_build": 50.0,
        "expectation_suites": 150.0,
        "source_freshness": 5.0,
    }
    # the quality checks are not ingestion, and are named when they hold the full run back
    assert _ingestion_seconds(doc["full"]["steps_s"]) == 60.0
    targets = {t["target"]: t for t in evaluate_targets(doc)}
    assert targets["large full run under 3 minutes"]["holds_back"] == "checks (quality suites, freshness)"


def test_the_memory_target_names_the_step_with_the_highest_peak() -> None:
    doc = result("large", full_wall=400.0, dbt_s=250.0, load_s=120.0, inc_wall=60.0, peak=6.0)
    doc["full"]["step_peak_rss_gib"] = {"load_crm": 5.9, "dbt_build": 2.5}
    targets = {t["target"]: t for t in evaluate_targets(doc)}
    assert targets["large peak memory under 4 GiB"]["holds_back"] == "load_crm (5.9 GiB)"
    assert targets["large full run under 3 minutes"]["holds_back"] == "dbt build"  # time and memory apart
    doc["targets"] = list(targets.values())
    assert "load_crm" in render(doc) and "5.90GiB" in render(doc)


def test_a_window_of_the_samples_has_its_own_peak() -> None:
    # a child that holds about 200 MB until told to exit, once the sampler has seen it
    holder = "import sys; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); sys.stdin.readline()"
    child = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE)
    with PeakMemory(child.pid, interval_s=0.05) as memory:
        deadline = time.monotonic() + 120
        while memory.peak_bytes <= 150 * 2**20 and time.monotonic() < deadline:
            time.sleep(0.1)
        child.communicate(b"\n")
    assert memory.peak_bytes > 150 * 2**20
    first, last = memory.samples[0][0], memory.samples[-1][0]
    assert memory.peak_between(first, last) == memory.peak_bytes
    assert memory.peak_between(last + 1, last + 2) == 0


def test_a_disk_too_small_for_the_runs_is_named_before_they_start(tmp_path: Path) -> None:
    check_free_space(tmp_path, landing_bytes=10 * GIB, free_bytes=11 * GIB)
    with pytest.raises(NotEnoughSpace) as error:
        check_free_space(tmp_path, landing_bytes=10 * GIB, free_bytes=4 * GIB)
    message = str(error.value)
    assert str(tmp_path) in message and "4.0 GiB free" in message and "--workdir" in message
    # a small company's warehouse outgrows its landing files: a fixed allowance covers it
    with pytest.raises(NotEnoughSpace, match="100 MiB free"):
        check_free_space(tmp_path, landing_bytes=30 * 1024**2, free_bytes=100 * 1024**2)


def test_an_incremental_target_below_the_per_run_cost_says_so() -> None:
    doc = result("large", full_wall=200.0, dbt_s=14.0, load_s=4.0, inc_wall=38.0, peak=3.0)
    doc["incremental"]["before_first_step_s"] = 4.5
    # the same day again, nothing to load: 25 s, most of it in dbt
    doc["repeat"] = {
        "steps_s": {"dbt_build": 23.0, "load_crm": 0.9, "expectation_suites": 1.4},
        "before_first_step_s": 4.2,
        "process_wall_s": 35.0,
        "peak_rss_gib": 1.5,
        "rows_touched": 0,
        "wall_ratio_to_full": 0.175,
        "dbt": {"models_s": 9.0, "tests_s": 3.0},
    }
    targets = {t["target"]: t for t in evaluate_targets(doc)}
    daily = targets["incremental under 30 s"]
    assert not daily["met"]
    assert daily["holds_back"].startswith("the per-run cost: the same day run again with nothing new to load took 35.0")
    # its stages, largest first, start-up included
    assert "(dbt build 23.0 s, run start-up (imports, definitions) 4.2 s, checks" in daily["holds_back"]
    doc["targets"] = list(targets.values())
    text = render(doc)
    assert "nothing new" in text and "nothing new / full: 17.5%" in text
    assert "MISSED (held back by the per-run cost" in text


def test_a_target_the_run_with_nothing_new_meets_names_the_next_days_stage() -> None:
    doc = result("large", full_wall=400.0, dbt_s=10.0, load_s=30.0, inc_wall=45.0, peak=3.0)
    doc["repeat"] = {"steps_s": {"dbt_build": 5.0}, "process_wall_s": 12.0, "wall_ratio_to_full": 0.03}
    targets = {t["target"]: t for t in evaluate_targets(doc)}
    assert targets["incremental under 30 s"]["holds_back"] == "ingestion (dlt)"


def test_start_up_is_a_stage_when_measured() -> None:
    doc = result("large", full_wall=400.0, dbt_s=2.0, load_s=1.0, inc_wall=45.0, peak=3.0)
    doc["incremental"]["before_first_step_s"] = 6.0
    targets = {t["target"]: t for t in evaluate_targets(doc)}
    assert targets["incremental under 30 s"]["holds_back"] == "run start-up (imports, definitions)"


def test_the_run_with_readers_is_a_column_and_the_readers_a_line() -> None:
    doc = result("small", full_wall=40.0, dbt_s=20.0, load_s=10.0, inc_wall=20.0, peak=1.0)
    doc["with_readers"] = {"steps_s": {"dbt_build": 19.0, "publish": 0.8}, "process_wall_s": 21.5, "dbt": {}}
    doc["readers"] = {
        "holding": {"queries": 90, "failed": 0, "errors": [], "slowest_s": 0.01},
        "connecting": {"queries": 80, "failed": 2, "errors": ["IO Error: x"], "slowest_s": 0.3},
    }
    doc["targets"] = evaluate_targets(doc)
    text = render(doc)
    assert "with readers" in text.splitlines()[3]
    publish_line = next(line for line in text.splitlines() if line.startswith("publish "))
    assert publish_line.split()[1:4] == ["-", "-", "-"] and "0.8s" in publish_line
    assert "holding 90 queries, none failed" in text and "connecting 80 queries, 2 failed (IO Error: x)" in text
