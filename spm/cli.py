"""The ``spm`` command line: generate a synthetic company, run the pipeline, open the UI, query."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import select
import shutil
import sys
import time
from pathlib import Path
from typing import NoReturn

from spm import settings
from spm.process_exit import exit_process


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a synthetic company's landing files."""
    from spm.synthetic import GenerationError, generate

    started = time.monotonic()
    try:
        result = generate(Path(args.out), scale=args.scale, seed=args.seed, as_of=args.as_of)
    except GenerationError as exc:
        print(f"spm generate: {exc}", file=sys.stderr)
        return 2
    print(f"{result}\nGenerated in {time.monotonic() - started:.1f} s into {Path(args.out).resolve()}")
    return 0


def run_pipeline(landing: Path | None, warehouse: Path, quiet: bool = False) -> int:
    """Run ``warehouse_job`` in this process (the job the UI and the schedule run) and print a summary."""
    from ingestion.errors import IngestionError
    from ingestion.landing import LAYOUT, system_dir
    from orchestration.dbt_warm_process import start_early

    if landing is not None:
        try:
            for system in LAYOUT:
                system_dir(landing, system)
        except IngestionError as exc:
            print(f"spm run: {exc}", file=sys.stderr)
            return 2
    start_early(warehouse)  # dbt warms up while Dagster is imported (the job's dbt resource adopts it)
    import dagster as dg

    from orchestration.dbt_manifest import ensure_manifest

    ensure_manifest()
    from orchestration.build import build_definitions

    definitions = build_definitions(warehouse=warehouse, landing=landing)
    job = definitions.resolve_job_def("warehouse_job")
    run_config = {
        "resources": {"warehouse": {"config": {"warehouse_path": str(warehouse), "landing_dir": str(landing or "")}}},
        "loggers": {"console": {"config": {"log_level": "ERROR" if quiet else "INFO"}}},
    }
    home = os.environ.get("DAGSTER_HOME")
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.get() if home else dg.DagsterInstance.ephemeral()
    print(f"Running warehouse_job: landing {landing or 'live APIs'} -> warehouse {warehouse}", flush=True)
    started = time.monotonic()
    from spm.run_summary import rejected_rows, summarise

    logging.getLogger("dlt").setLevel(logging.ERROR)
    result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
    summary = summarise(result, started)
    summary.rejects = rejected_rows(warehouse)
    if summary.checks_failed:
        from spm.finance.periods import plan_rule_violations

        summary.plan_problems = plan_rule_violations(warehouse)
    print(summary.render(), flush=True)
    return 0 if summary.success and not summary.checks_failed else 1


def cmd_check(args: argparse.Namespace) -> int:
    """Run every check (quality suites, dbt tests, source freshness) without rebuilding; print a table."""
    import dagster as dg

    from orchestration.dbt_manifest import ensure_manifest
    from spm.check_report import render_check_table

    warehouse = Path(args.warehouse).resolve()
    if not warehouse.exists():
        print(f"spm check: no warehouse at {warehouse} (run `spm run` first)", file=sys.stderr)
        return 2
    ensure_manifest()
    from orchestration.build import build_definitions

    job = build_definitions(warehouse=warehouse).resolve_job_def("checks_job")
    run_config = {
        "resources": {"warehouse": {"config": {"warehouse_path": str(warehouse), "landing_dir": ""}}},
        "ops": {"expectation_suites": {"config": {"full": bool(args.full)}}},
        "loggers": {"console": {"config": {"log_level": "ERROR"}}},
    }
    logging.getLogger("dlt").setLevel(logging.ERROR)
    print(f"Running checks_job on {warehouse} ({'every row' if args.full else 'rows of the latest loads'})", flush=True)
    result = job.execute_in_process(
        run_config=run_config, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    table, failed = render_check_table(result, only_problems=not args.all)
    print(table, flush=True)
    return 0 if result.success and not failed else 1


def cmd_run(args: argparse.Namespace) -> int:
    """Load the landing folder (or live APIs) into the warehouse and build the models."""
    landing = None if args.live else Path(args.landing).resolve()
    return run_pipeline(landing, Path(args.warehouse).resolve(), quiet=args.quiet)


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the company into the default landing folder (if needed) and run the pipeline."""
    from spm.synthetic import GenerationError, generate

    landing = Path(args.landing).resolve()
    warehouse = Path(args.warehouse).resolve()
    manifest = landing / "_manifest.json"
    if manifest.exists() and not args.fresh:
        print(f"Using the existing landing folder {landing} (pass --fresh to regenerate)")
    else:
        if args.fresh:
            shutil.rmtree(landing, ignore_errors=True)
            for leftover in (warehouse, Path(f"{warehouse}.wal")):
                leftover.unlink(missing_ok=True)
            shutil.rmtree(warehouse.parent / ".dlt_pipelines" / warehouse.stem, ignore_errors=True)
        print(f"Generating the {args.scale} company into {landing} ...", flush=True)
        try:
            print(generate(landing, scale=args.scale, seed=args.seed, as_of=None))
        except GenerationError as exc:
            print(f"spm demo: {exc}", file=sys.stderr)
            return 2
    status = run_pipeline(landing, warehouse, quiet=args.quiet)
    if status == 0:
        print(f'\nQuery it: spm query "select * from staging.stg_crm__deals limit 5"  (warehouse {warehouse})')
        print("Open the UI: spm ui")
    return status


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the Dagster UI on the project's definitions, with the project's dagster.yaml."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.DAGSTER_YAML, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("SPM_WAREHOUSE", str(Path(args.warehouse).resolve()))
    os.environ.setdefault("SPM_LANDING", str(Path(args.landing).resolve()))
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster) if dagster.exists() else "dagster", "dev", "-m", "orchestration.definitions"]
    command += ["--host", args.host, "--port", str(args.port)]
    print(f"DAGSTER_HOME={home}\n{' '.join(command)}", flush=True)
    os.chdir(settings.REPO_ROOT)
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def cmd_query(args: argparse.Namespace) -> int:
    """Run one SQL statement against the warehouse, read-only, and print the result."""
    import duckdb

    warehouse = Path(args.warehouse).resolve()
    if not warehouse.exists():
        print(f"spm query: no warehouse at {warehouse} (run `spm demo` first)", file=sys.stderr)
        return 2
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.sql(args.sql).show(max_rows=args.max_rows)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Generate a company (not timed), then time a full run, the DuckDB floor, an incremental run
    and the same day again with nothing new to load."""
    from spm.bench.run import AS_OF, NotEnoughSpace, bench, render

    workdir = Path(args.workdir).resolve() / args.scale
    try:
        result = bench(args.scale, args.seed, workdir, args.as_of or AS_OF)
    except NotEnoughSpace as error:
        print(f"spm bench: {error}", file=sys.stderr)
        return 2
    print(render(result))
    print(f"\nresult: {workdir / f'bench-{args.scale}.json'}")
    runs = ("full", "incremental", "repeat")
    return 0 if all(result[run].get("success") for run in runs) else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spm``."""
    parser = argparse.ArgumentParser(prog="spm", description="Sales-performance warehouse")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic company's landing files")
    generate.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--as-of", type=_date, default=None, help="state of the world on this date (YYYY-MM-DD)")
    generate.add_argument("--out", required=True, help="landing folder to write")
    generate.set_defaults(func=cmd_generate)

    run = commands.add_parser("run", help="load the landing folder and build the warehouse (the Dagster job)")
    run.add_argument("--landing", default=str(settings.landing_dir()), help="landing folder to read")
    run.add_argument("--live", action="store_true", help="read the live APIs instead of a landing folder")
    run.add_argument("--warehouse", default=str(settings.warehouse_path()), help="DuckDB file to write")
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    run.set_defaults(func=cmd_run)

    demo = commands.add_parser("demo", help="generate a company and run the pipeline on it")
    demo.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--landing", default=str(settings.landing_dir()))
    demo.add_argument("--warehouse", default=str(settings.warehouse_path()))
    demo.add_argument("--fresh", action="store_true", help="regenerate and rebuild from scratch")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=cmd_demo)

    ui = commands.add_parser("ui", help="open the Dagster UI (dagster dev)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--landing", default=str(settings.landing_dir()))
    ui.add_argument("--warehouse", default=str(settings.warehouse_path()))
    ui.set_defaults(func=cmd_ui)

    query = commands.add_parser("query", help="run SQL against the warehouse (read-only)")
    query.add_argument("sql")
    query.add_argument("--warehouse", default=str(settings.warehouse_path()))
    query.add_argument("--max-rows", type=int, default=40)
    query.set_defaults(func=cmd_query)

    check = commands.add_parser("check", help="run every check without rebuilding and print a summary table")
    check.add_argument("--warehouse", default=str(settings.warehouse_path()))
    check.add_argument("--full", action="store_true", help="re-validate every row, not only the latest loads")
    check.add_argument("--all", action="store_true", help="list passing checks too (default: problems only)")
    check.set_defaults(func=cmd_check)

    bench = commands.add_parser("bench", help="benchmark a full and an incremental run on a generated company")
    bench.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="date of the full run (YYYY-MM-DD, default 2025-12-31); the incremental run loads the next day",
    )
    bench.add_argument("--workdir", default=str(settings.data_dir() / "bench"), help="scratch folder (regenerated)")
    bench.set_defaults(func=cmd_bench)

    from spm.finance.commands import add_finance_commands

    add_finance_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spm`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # another pipe or socket broke: that is an error to show
        # The reader of our output went away (`spm check | head`): end quietly, as Unix tools do,
        # rather than with a traceback and a second error when Python flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (the pipe then polls as an error)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no file descriptor, or no poll() here
        return False


def run() -> NoReturn:
    """The ``spm`` console script: :func:`main`, then a quick exit (see ``spm.process_exit``)."""
    exit_process(main())


if __name__ == "__main__":
    run()
