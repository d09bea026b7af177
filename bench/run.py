"""`spm bench --scale small|medium|large`: full run, next-day incremental run and the DuckDB floor.

Generation is timed apart and never counted. Each pipeline run is `spm run` itself, in a child
process with a Dagster home of its own, while a sampler records the peak resident memory of that
process and its children (dbt); the steps' times come from the run's events in that instance.
After the next day's run, the same day runs again with nothing new to load: what every run costs
at this scale whatever its delta. Results go to a JSON file and a
short table; the targets of the performance issue are evaluated and, where one is missed, the stage
that holds it back is named (for the incremental targets, the per-run cost when the run with
nothing new already misses them).
Timings are figures to read, never asserted in tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import forecast as forecast_stage
from bench.floor import read_with_duckdb
from bench.memory import PeakMemory

#: The full run's date; the incremental run loads the next day. A day that starts a month moves
#: the commission horizon, and the finance models then re-derive everything (`--as-of` to measure
#: a day inside a month, the common case).
AS_OF = dt.date(2025, 12, 31)
GIB = 1024**3


def _generate(landing: Path, scale: str, seed: int, as_of: dt.date) -> float:
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "spm.cli",
            "generate",
            "--scale",
            scale,
            "--seed",
            str(seed),
            "--as-of",
            as_of.isoformat(),
            "--out",
            str(landing),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return round(time.monotonic() - started, 2)


#: Disk the runs need beside the landing files, as a share of their size: the warehouse, dlt's
#: load files of the source being loaded and the floor's scratch database. At large the landing
#: files take 10.5 GiB; the warehouse and the load files peaked at 5.2 GiB while the CRM loaded,
#: the warehouse ends at 3.6 GiB and the floor's database takes 0.9 GiB. The share leaves a
#: margin for DuckDB spilling past its memory cap into the warehouse's folder.
SPACE_PER_LANDING_BYTE = 1.0
#: And a fixed allowance: a warehouse has a size of its own whatever the rows (the small company's
#: is 48 MB beside 30 MB of landing files), and dbt writes its artifacts per run.
SPACE_FIXED_BYTES = 256 * 1024**2


class NotEnoughSpace(RuntimeError):
    """The work folder's disk cannot hold what the benchmark runs will write."""


def check_free_space(workdir: Path, landing_bytes: int, free_bytes: int | None = None) -> None:
    """Raise :class:`NotEnoughSpace` when ``workdir``'s disk has less free space than the runs
    need for landing files of ``landing_bytes`` (see :data:`SPACE_PER_LANDING_BYTE` and
    :data:`SPACE_FIXED_BYTES`).

    Checked once the company is generated, before the runs: running out of space half-way
    through a load leaves minutes of work and a broken warehouse behind.
    """
    needed = int(landing_bytes * SPACE_PER_LANDING_BYTE) + SPACE_FIXED_BYTES
    free = shutil.disk_usage(workdir).free if free_bytes is None else free_bytes
    if free < needed:
        raise NotEnoughSpace(
            f"{workdir}: {_size(free)} free, but the benchmark runs need about {_size(needed)} beside the "
            f"{_size(landing_bytes)} of landing files (the warehouse, dlt's load files, the floor's scratch "
            "database); free some space or pass another --workdir"
        )


def _size(size: int) -> str:
    return f"{size / GIB:.1f} GiB" if size >= GIB else f"{size / 1024**2:.0f} MiB"


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _job_env(workdir: Path) -> dict[str, str]:
    """The environment of a benchmark run: its own Dagster home, logs and dbt artifacts."""
    return {
        **os.environ,
        "SPM_DATA_DIR": str(workdir / "data"),
        "DAGSTER_HOME": str(workdir / "data" / "dagster_home"),
    }


def _recorded_run(home: Path, since_epoch: float) -> dict:
    """Steps, rows and checks of the runs one `spm run` recorded in the Dagster instance at
    ``home`` since ``since_epoch`` (``warehouse_job``, then ``publish_job``)."""
    import dagster as dg

    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        instance = dg.DagsterInstance.get()
        since = dt.datetime.fromtimestamp(since_epoch, dt.UTC)
        runs = list(reversed(instance.get_runs(filters=dg.RunsFilter(created_after=since))))
        if not runs:
            return {"success": False, "steps_s": {}}
        windows: dict[str, dict[str, float]] = {}
        rows: dict[str, int] = {}
        passed, failed = 0, []
        records = [record for run in runs for record in instance.all_logs(run.run_id)]
        for record in records:
            event = record.dagster_event
            if event is None:
                continue
            if event.step_key is not None:
                window = windows.setdefault(event.step_key, {})
                if event.event_type_value == "STEP_START":
                    window["start"] = record.timestamp
                elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                    window["end"] = record.timestamp
            if event.event_type_value == "ASSET_MATERIALIZATION":
                value = event.step_materialization_data.materialization.metadata.get("rows_loaded")
                key = event.asset_key.to_user_string()
                if value is not None and not key.endswith("_rejected"):
                    rows[key] = int(value.value)
            elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                evaluation = event.asset_check_evaluation_data
                if evaluation.passed or evaluation.severity == dg.AssetCheckSeverity.WARN:
                    passed += 1
                else:
                    failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        done = {step: w for step, w in windows.items() if "start" in w and "end" in w}
        return {
            "success": all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs),
            "run_id": runs[0].run_id,
            "jobs": [run.job_name for run in runs],
            "steps_s": {step: round(w["end"] - w["start"], 2) for step, w in done.items()},
            "steps_window": {step: [w["start"], w["end"]] for step, w in done.items()},
            "rows_loaded": rows,
            "checks_passed": passed,
            "checks_failed": failed,
        }
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


def _run_job(landing: Path, warehouse: Path, workdir: Path) -> dict:
    """`spm run` on ``landing`` into ``warehouse``, as a user runs it, in a child process whose
    memory (with dbt's, its child) is sampled; its steps are read from the Dagster instance."""
    started, started_epoch = time.monotonic(), time.time()
    command = [sys.executable, "-m", "spm.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    output = workdir / "spm-run.log"
    with output.open("w") as out:
        process = subprocess.Popen([*command, "--quiet"], env=_job_env(workdir), stdout=out, stderr=subprocess.STDOUT)
        with PeakMemory(process.pid) as memory:
            process.wait()
    ended_epoch = time.time()
    result = _recorded_run(workdir / "data" / "dagster_home", started_epoch)
    result["process_wall_s"] = round(time.monotonic() - started, 2)
    result["peak_rss_gib"] = round(memory.peak_bytes / GIB, 2)
    windows = result.pop("steps_window", {})
    # Steps run one after another (one in-process executor), so a step's window holds its own peak.
    result["step_peak_rss_gib"] = {
        step: round(memory.peak_between(start, end) / GIB, 2) for step, (start, end) in windows.items()
    }
    if windows:
        # What the process spends outside the job's steps: interpreter, imports, Dagster's instance,
        # the definitions and the run's setup before the first; its end after the last.
        result["before_first_step_s"] = round(min(start for start, _ in windows.values()) - started_epoch, 2)
        result["after_last_step_s"] = round(ended_epoch - max(end for _, end in windows.values()), 2)
    result["exit_code"] = process.returncode
    if not result.get("success"):
        # what `spm run` said: its summary names the failed step or check
        result["output_tail"] = output.read_text(errors="replace").strip().splitlines()[-12:]
    return result


def _dbt_profile(workdir: Path, since: float) -> dict:
    """Model and test timings from the dbt run_results.json written after ``since``."""
    candidates = [p for p in (workdir / "data" / "dbt_runs").glob("*/run_results.json") if p.stat().st_mtime >= since]
    if not candidates:
        return {}
    results = [r for path in candidates for r in json.loads(path.read_text())["results"]]
    models = sorted(
        ((r["unique_id"].split(".")[-1], r["execution_time"]) for r in results if r["unique_id"].startswith("model.")),
        key=lambda item: -item[1],
    )
    tests = [r["execution_time"] for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    return {
        "models_s": round(sum(t for _, t in models), 2),
        "tests_s": round(sum(tests), 2),
        "tests": len(tests),
        "slowest_models": [{"model": m, "seconds": round(t, 2)} for m, t in models[:8]],
    }


def _fresh_warehouse(warehouse: Path) -> None:
    for leftover in (warehouse, Path(f"{warehouse}.wal"), Path(f"{warehouse}.lock")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(warehouse.parent / ".dlt_pipelines", ignore_errors=True)


#: Steps of warehouse_job by stage: dlt loads are ``load_<source>``.
DBT_STEPS = ("dbt_build",)
CHECK_STEPS = ("expectation_suites", "source_freshness")
PUBLISH_STEPS = ("publish",)


def _ingestion_seconds(steps: dict[str, float]) -> float:
    return round(sum(t for step, t in steps.items() if step.startswith("load_")), 2)


def _stage_seconds(steps: dict[str, float], names: tuple[str, ...]) -> float:
    return round(sum(steps.get(name, 0.0) for name in names), 2)


#: The run's process before its first step (imports, Dagster's instance, the definitions).
STARTUP_STAGE = "run start-up (imports, definitions)"


def _stage_times(run: dict) -> dict[str, float]:
    """A run's seconds per stage: ingestion (dlt), dbt build, checks (suites, freshness) and,
    where measured, the process's start-up before its first step."""
    steps = run["steps_s"]
    stages = {
        "ingestion (dlt)": _ingestion_seconds(steps),
        "dbt build": _stage_seconds(steps, DBT_STEPS),
        "checks (quality suites, freshness)": _stage_seconds(steps, CHECK_STEPS),
        "publish (serving file)": _stage_seconds(steps, PUBLISH_STEPS),
    }
    if "before_first_step_s" in run:
        stages[STARTUP_STAGE] = run["before_first_step_s"]
    return stages


def _slowest_stage(run: dict) -> str:
    """The stage of ``run`` that takes longest (see :func:`_stage_times`)."""
    stages = _stage_times(run)
    return max(stages, key=lambda stage: stages[stage])


def _per_run_cost(result: dict, limit_s: float) -> str | None:
    """What holds an incremental-run target of ``limit_s`` seconds back when the run with nothing
    new to load (the same day run again) already takes longer: the cost every run pays at this
    scale whatever its delta, with the stages it goes to. None when that run fits the limit or
    was not measured."""
    repeat = result.get("repeat")
    if not repeat or repeat["process_wall_s"] <= limit_s:
        return None
    stages = sorted(_stage_times(repeat).items(), key=lambda item: -item[1])
    return (
        f"the per-run cost: the same day run again with nothing new to load took {repeat['process_wall_s']} s "
        f"(" + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in stages) + ")"
    )


def _measured_run(landing: Path, warehouse: Path, workdir: Path, full: dict | None = None) -> dict:
    """One run of the job with its stages and dbt profile; after the full run (``full`` given),
    also the rows it loaded and its wall time as a share of the full run's."""
    since = time.time()
    run = _run_job(landing, warehouse, workdir)
    run["ingestion_s"] = _ingestion_seconds(run["steps_s"])
    run["checks_s"] = _stage_seconds(run["steps_s"], CHECK_STEPS)
    run["dbt"] = _dbt_profile(workdir, since)
    if full is not None:
        run["rows_touched"] = sum(run.get("rows_loaded", {}).values())
        run["wall_ratio_to_full"] = round(run["process_wall_s"] / max(full["process_wall_s"], 1e-9), 3)
    return run


def _run_with_readers(landing: Path, warehouse: Path, workdir: Path, full: dict) -> tuple[dict, dict]:
    """The run with nothing new again while two readers (``bench.readers``) query the serving
    file: one holding its connection open, one connecting per query. Returns the run and what
    the readers did (queries, failures, the slowest query)."""
    from core import settings

    serving = settings.serving_path(warehouse)
    stop, counts = workdir / "readers.stop", workdir / "readers.json"
    stop.unlink(missing_ok=True)
    counts.unlink(missing_ok=True)
    readers = subprocess.Popen(
        [sys.executable, "-m", "bench.readers", str(serving), str(stop), str(counts)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        readers.stdout.readline()  # "reading": both readers have started
        run = _measured_run(landing, warehouse, workdir, full)
    finally:
        stop.touch()
        readers.wait()
    return run, json.loads(counts.read_text()) if counts.exists() else {}


def bench(scale: str, seed: int, workdir: Path, as_of: dt.date = AS_OF) -> dict:
    """Run the benchmark (full run as of ``as_of``, then the next day's, then that day again with
    nothing new to load); return the result document (also written to ``workdir``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    landing, warehouse = workdir / "landing", workdir / "warehouse" / "warehouse.duckdb"
    shutil.rmtree(landing, ignore_errors=True)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    _fresh_warehouse(warehouse)
    result: dict = {
        "scale": scale,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(f"generating {scale} (not counted) ...", flush=True)
    result["generation_s"] = _generate(landing, scale, seed, as_of)
    check_free_space(workdir, _folder_bytes(landing))

    print("full run ...", flush=True)
    shutil.rmtree(workdir / "data", ignore_errors=True)
    full = _measured_run(landing, warehouse, workdir)
    result["full"] = full

    print("floor: DuckDB's own readers on the same files ...", flush=True)
    result["floor"] = read_with_duckdb(landing, workdir / "floor.duckdb")
    result["ingestion_to_floor_ratio"] = round(full["ingestion_s"] / max(result["floor"]["seconds"], 1e-9), 2)

    print("next day's delta (not counted) and incremental run ...", flush=True)
    result["delta_generation_s"] = _generate(landing, scale, seed, as_of + dt.timedelta(days=1))
    result["incremental"] = _measured_run(landing, warehouse, workdir, full)

    print("the same day again, nothing new to load (the per-run cost) ...", flush=True)
    result["repeat"] = _measured_run(landing, warehouse, workdir, full)

    print("the same again with two BI readers on the serving file ...", flush=True)
    result["with_readers"], result["readers"] = _run_with_readers(landing, warehouse, workdir, full)

    print("the forecast alone: 10,000 simulations over a synthetic open pipeline ...", flush=True)
    result["forecast"] = forecast_stage.run(forecast_stage.OPEN_DEALS[scale])
    result["targets"] = evaluate_targets(result)
    (workdir / f"bench-{scale}.json").write_text(json.dumps(result, indent=2))
    return result


def _biggest_step(run: dict) -> str:
    """The step with the highest memory peak (its name and peak), or "unknown" without readings."""
    peaks = run.get("step_peak_rss_gib") or {}
    if not peaks:
        return "unknown"
    step = max(peaks, key=lambda name: peaks[name])
    return f"{step} ({peaks[step]} GiB)"


def evaluate_targets(result: dict) -> list[dict]:
    """The performance issue's targets that apply to this scale, met or not, and what holds each back."""
    full, incremental = result["full"], result["incremental"]
    slowest = _slowest_stage(full)
    targets = [
        {
            "target": "ingestion within 2x of DuckDB's readers",
            "value": result["ingestion_to_floor_ratio"],
            "limit": 2.0,
            "holds_back": "ingestion (dlt)",
        },
    ]
    if result["scale"] == "medium":
        targets.append(
            {
                "target": "medium full run under 45 s",
                "value": full["process_wall_s"],
                "limit": 45.0,
                "holds_back": slowest,
            }
        )
    if result["scale"] == "large":
        targets += [
            {
                "target": "large full run under 3 minutes",
                "value": full["process_wall_s"],
                "limit": 180.0,
                "holds_back": slowest,
            },
            {
                "target": "large peak memory under 4 GiB",
                "value": full["peak_rss_gib"],
                "limit": 4.0,
                "holds_back": _biggest_step(full),
            },
            {
                "target": "incremental under 30 s",
                "value": incremental["process_wall_s"],
                "limit": 30.0,
                "holds_back": _per_run_cost(result, 30.0) or _slowest_stage(incremental),
            },
        ]
    if result["scale"] == "large" and "forecast" in result:
        targets.append(
            {
                "target": "forecast: 10,000 simulations over about 100 k open deals under 60 s",
                "value": result["forecast"]["seconds"],
                "limit": 60.0,
                "holds_back": "the forecast's simulation (bench/forecast.py)",
            }
        )
    for target in targets:
        target["met"] = target["value"] <= target["limit"]
    return targets


def _readers_line(readers: dict | None) -> str:
    """What the two BI readers did during the run with readers."""
    if not readers:
        return "readers: not measured"
    parts = []
    for name, counts in readers.items():
        failed = f", {counts['failed']} failed ({counts['errors'][0]})" if counts["failed"] else ", none failed"
        parts.append(f"{name} {counts['queries']} queries{failed}, slowest {counts['slowest_s']:.2f} s")
    return "readers of the serving file: " + "; ".join(parts)


def _cell(seconds: float | None) -> str:
    return f"{seconds:>13.1f}s" if seconds is not None else f"{'-':>14}"


def render(result: dict) -> str:
    """A short table of the figures: the full run, the next day's and, where measured, that day
    again with nothing new to load."""
    full, inc = result["full"], result["incremental"]
    repeat = result.get("repeat") or {"steps_s": {}}
    readers_run = result.get("with_readers") or {"steps_s": {}}
    runs = (full, inc, repeat, readers_run)
    lines = [
        f"spm bench {result['scale']} (seed {result['seed']}, {result['machine']['cpus']} CPUs, "
        f"{result['machine']['platform']})",
        f"generation (not counted): {result['generation_s']} s; next-day delta {result['delta_generation_s']} s",
        "",
        f"{'stage':<34}{'full':>14}{'next day':>14}{'nothing new':>14}{'with readers':>14}{'peak (full)':>14}",
    ]
    lines.append(f"{'(before the first step)':<34}" + "".join(_cell(run.get("before_first_step_s")) for run in runs))
    peaks = full.get("step_peak_rss_gib", {})
    for step in sorted(set().union(*(run["steps_s"] for run in runs))):
        lines.append(
            f"{step:<34}" + "".join(_cell(run["steps_s"].get(step)) for run in runs) + f"{peaks.get(step, 0):>11.2f}GiB"
        )
    lines += [
        f"{'  dbt models / tests (run_results)':<34}"
        + "".join(
            f"{run['dbt'].get('models_s', 0):>8.1f}/{run['dbt'].get('tests_s', 0):<4.1f}s" if "dbt" in run else " " * 14
            for run in runs
        ).rstrip(),
        f"{'end to end (process wall)':<34}" + "".join(_cell(run.get("process_wall_s")) for run in runs),
        f"{'peak memory (process tree)':<34}"
        + "".join(f"{run['peak_rss_gib']:>11.2f}GiB" if "peak_rss_gib" in run else f"{'-':>14}" for run in runs),
        f"{'rows loaded':<34}{sum(full.get('rows_loaded', {}).values()):>14,}{inc['rows_touched']:>14,}"
        + (f"{repeat['rows_touched']:>14,}" if "rows_touched" in repeat else ""),
        _readers_line(result.get("readers")),
        forecast_stage.render(result["forecast"]) if "forecast" in result else "forecast: not measured",
        "",
        f"floor (DuckDB readers, same files): {result['floor']['seconds']} s; "
        f"ingestion {full['ingestion_s']} s = {result['ingestion_to_floor_ratio']}x the floor",
        f"next day / full wall time: {inc['wall_ratio_to_full']:.1%}"
        + (f"; nothing new / full: {repeat['wall_ratio_to_full']:.1%}" if "wall_ratio_to_full" in repeat else ""),
        "slowest models: "
        + ", ".join(f"{m['model']} {m['seconds']} s" for m in full["dbt"].get("slowest_models", [])[:5]),
        "",
    ]
    for name in ("full", "incremental", "repeat", "with_readers"):
        if name in result and not result[name].get("success", True):
            lines.append(f"{name} run FAILED: " + " | ".join(result[name].get("output_tail", [])[-4:]))
    for target in result["targets"]:
        verdict = "met" if target["met"] else f"MISSED (held back by {target['holds_back']})"
        lines.append(f"target: {target['target']}: {target['value']} vs {target['limit']}: {verdict}")
    return "\n".join(lines)
