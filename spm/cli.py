"""The ``spm`` command line: generate a synthetic company, run the pipeline, check it, open the UI,
query the warehouse, the finance commands (``spm/finance_commands.py``), publish and doctor
(``spm/serving_commands.py``), backup and restore (``spm/backup_commands.py``), the monthly pack
(``spm/report_commands.py``).

This package sits on top: it imports the rest of the project, and nothing imports it. Heavy
imports (Dagster, dbt, dlt, GX) happen inside the commands that need them, so ``spm --help``
and a mistyped command answer at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import select
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import NoReturn

from core import settings
from core.process_exit import exit_process
from spm.output import fail, say


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a synthetic company's landing files."""
    from synthetic import GenerationError, generate

    started = time.monotonic()
    try:
        result = generate(Path(args.out), scale=args.scale, seed=args.seed, as_of=args.as_of)
    except GenerationError as exc:
        return fail("generate", str(exc))
    say(f"{result}\nGenerated in {time.monotonic() - started:.1f} s into {Path(args.out).resolve()}")
    return 0


def _prepare(command: str, warehouse: Path) -> int | None:
    """Prepare the dbt manifest for ``warehouse``; an exit status if that failed, else None."""
    from orchestration.dbt_manifest import ManifestError, ensure_manifest

    try:
        ensure_manifest(warehouse)
    except ManifestError as exc:
        print(f"spm {command}: {exc}", file=sys.stderr, flush=True)
        return 1
    return None


class _Preparation:
    """The dbt manifest prepared for ``warehouse`` while this process imports the rest.

    The definitions need a manifest that describes the project's files; dbt's parse state must
    also match the warehouse (see ``orchestration/dbt_manifest.py``). When the files changed, or
    there is no manifest, ``dbt parse`` must finish before the definitions are built; when only
    the warehouse differs, the parse goes on in the background (a child process) during the
    loads, and the dbt step waits for it. Everything the thread calls is imported here first, so
    that no module is imported by two threads at once.
    """

    def __init__(self, command: str, warehouse: Path) -> None:
        from orchestration.dbt_manifest import manifest_describes_project, parse_key

        parse_key(warehouse)  # what reading dbt's version imports, imported here (see the docstring)
        self._needed_now = not manifest_describes_project()
        self._status: int | None = None
        self._thread = threading.Thread(target=self._run, args=(command, warehouse), daemon=True)
        self._thread.start()

    def _run(self, command: str, warehouse: Path) -> None:
        self._status = _prepare(command, warehouse)

    def status(self) -> int | None:
        """An exit status if preparing failed, else None; waits only when the definitions need it."""
        if self._needed_now:
            self._thread.join()
        return self._status

    def finish(self) -> None:
        """Wait for the parse (a run that stopped before its dbt step did not): the process does
        not end with a ``dbt parse`` still writing into the project's target folder."""
        self._thread.join()


def run_pipeline(landing: Path | None, warehouse: Path, quiet: bool = False, verbose: bool = False) -> int:
    """Run ``warehouse_job`` in this process (the job the UI and the schedule run) and print a summary."""
    from ingestion.errors import IngestionError
    from ingestion.landing import LAYOUT, entity_files

    if landing is not None:
        try:  # the layout, and no file linked in from outside the folder, before anything is read
            for system, entities in LAYOUT.items():
                for entity in entities:
                    entity_files(landing, system, entity)
        except IngestionError as exc:
            return fail("run", str(exc))
    if warehouse.is_dir():
        return fail(
            "run", f"--warehouse {warehouse} is a folder; name the DuckDB file (e.g. {warehouse}/warehouse.duckdb)"
        )
    if not quiet:
        say(f"Running warehouse_job: {landing or 'live APIs'} -> {warehouse}")
    # dbt parses the project (when it must) in its own process while this one imports the rest
    preparing = _Preparation("run", warehouse)
    from finance.payout_changes import recorded_changes
    from finance.periods import plan_rule_violations
    from orchestration.definitions import build_definitions
    from orchestration.defs.schedules import WAREHOUSE_SELECTION
    from spm.job_runner import run_job
    from spm.report_commands import pack_after
    from spm.run_summary import rejected_rows, summarise
    from spm.serving_commands import publish_after

    status = preparing.status()
    if status is not None:
        return status
    definitions = build_definitions(warehouse=warehouse, landing=landing, live=landing is None)
    graph = definitions.resolve_asset_graph()
    run = run_job(definitions, "warehouse_job", "run", quiet=quiet, verbose=verbose)
    preparing.finish()
    summary = summarise(run.result, run.elapsed_s, graph, WAREHOUSE_SELECTION.resolve(graph))
    published = True
    if run.result.success:
        outcome = publish_after(definitions, run, "run", quiet=quiet, verbose=verbose)
        summary.published, published = outcome.line(), not outcome.error
        if published:
            summary.pack = pack_after(definitions, "run", quiet=quiet, verbose=verbose)
    summary.rejects = rejected_rows(warehouse)
    summary.log_path = run.log_path
    if summary.checks_failed:
        summary.plan_problems = plan_rule_violations(warehouse)
    summary.payout_changes = [change.describe() for change in recorded_changes(warehouse, run.run_id)]
    say(summary.render())
    return 0 if summary.success and published and not summary.checks_failed else 1


def cmd_run(args: argparse.Namespace) -> int:
    """Load the landing folder (or live APIs) into the warehouse and build the models."""
    landing = None if args.live else Path(args.landing).resolve()
    return run_pipeline(landing, Path(args.warehouse).resolve(), quiet=args.quiet, verbose=args.verbose)


def cmd_check(args: argparse.Namespace) -> int:
    """Run every check (quality suites, dbt tests, source freshness) without rebuilding; print a table."""
    warehouse = Path(args.warehouse).resolve()
    if not warehouse.is_file():
        return fail("check", f"no warehouse at {warehouse} (run `spm run` first, or pass --warehouse)")
    status = _prepare("check", warehouse)
    if status is not None:
        return status
    from orchestration.definitions import build_definitions
    from spm.check_report import render_check_table
    from spm.job_runner import run_job

    scope = "every row" if args.full else "rows of the latest loads"
    if not args.quiet:
        say(f"Running checks_job on {warehouse} ({scope})")
    run = run_job(
        build_definitions(warehouse=warehouse),
        "checks_job",
        "check",
        {"ops": {"expectation_suites": {"config": {"full": bool(args.full)}}}},
        quiet=args.quiet,
        verbose=args.verbose,
    )
    table, failed = render_check_table(run.result, only_problems=not args.all)
    say(f"{table}\nLog: {run.log_path}")
    return 0 if run.result.success and not failed else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the company into the default landing folder (if needed) and run the pipeline."""
    from synthetic import GenerationError, generate

    landing = Path(args.landing).resolve()
    warehouse = Path(args.warehouse).resolve()
    manifest = landing / "_manifest.json"
    if manifest.exists() and not args.fresh:
        say(f"Using the existing landing folder {landing} (pass --fresh to regenerate)")
    else:
        if args.fresh:
            shutil.rmtree(landing, ignore_errors=True)
            for leftover in (warehouse, Path(f"{warehouse}.wal")):
                leftover.unlink(missing_ok=True)
            shutil.rmtree(settings.dlt_pipelines_dir(warehouse), ignore_errors=True)
        say(f"Generating the {args.scale} company into {landing} ...")
        try:
            say(str(generate(landing, scale=args.scale, seed=args.seed, as_of=None)))
        except GenerationError as exc:
            return fail("demo", str(exc))
    status = run_pipeline(landing, warehouse, quiet=args.quiet, verbose=args.verbose)
    if status == 0:
        say(f'\nQuery it: spm query "select * from marts.mart_sales_kpis limit 5"  (warehouse {warehouse})')
        say(f"BI tools: open {settings.serving_path(warehouse)} read-only (README: Connect a BI tool)")
        say("See the runs and the asset graph: spm ui")
    return status


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the Dagster UI (``dagster dev``) on the project's definitions and Dagster instance."""
    from spm.job_runner import dagster_instance

    dagster_instance()  # DAGSTER_HOME set up, with the project's dagster.yaml
    os.environ["SPM_WAREHOUSE"] = str(Path(args.warehouse).resolve())
    os.environ["SPM_LANDING"] = str(Path(args.landing).resolve())
    # dbt, dagster and the code server are found beside this Python, with or without PATH
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    dagster = shutil.which("dagster")
    if dagster is None:
        return fail("ui", f"no `dagster` command beside {sys.executable} or on PATH: run `make setup`")
    command = [dagster, "dev", "-m", "orchestration.definitions"]
    command += ["--host", args.host, "--port", str(args.port)]
    # `dagster dev` superseded by `dg dev` (the dagster-dg-cli package, not installed): not news to a user
    os.environ["PYTHONWARNINGS"] = "ignore:::click.core"
    say(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}\n{' '.join(command)}")
    # from the Dagster home: Dagster warns about a dagster.yaml in the working folder that is not its home's
    os.chdir(os.environ["DAGSTER_HOME"])
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def cmd_query(args: argparse.Namespace) -> int:
    """Run one SQL statement against the warehouse and print the result.

    The connection reads the warehouse's tables and nothing else (``core.query_sandbox``): no
    writes, no other files or databases, no extensions; such a statement is refused in one line.
    """
    import duckdb

    from core.query_sandbox import connect_sandboxed, is_refusal

    warehouse = Path(args.warehouse).resolve()
    if not warehouse.is_file():
        return fail("query", f"no warehouse at {warehouse} (run `spm demo` first, or pass --warehouse)")
    try:
        with connect_sandboxed(warehouse) as connection:
            connection.sql(args.sql).show(max_rows=args.max_rows)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        if is_refusal(exc):
            return fail("query", f"refused: spm query only reads the warehouse's tables ({first})")
        return fail("query", first)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Generate a company (not timed), then time a full run, the DuckDB floor, an incremental run
    and the same day again with nothing new to load."""
    from bench.run import AS_OF, NotEnoughSpace, bench, render

    workdir = Path(args.workdir).resolve() / args.scale
    try:
        result = bench(args.scale, args.seed, workdir, args.as_of or AS_OF)
    except NotEnoughSpace as error:
        return fail("bench", str(error))
    say(render(result))
    say(f"\nresult: {workdir / f'bench-{args.scale}.json'}")
    runs = ("full", "incremental", "repeat", "with_readers")
    return 0 if all(result[run].get("success") for run in runs) else 1


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows every option's default."""


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quiet", action="store_true", help="print only the summary (no step lines)")
    group.add_argument(
        "--verbose",
        action="store_true",
        help="show Dagster's and dbt's log lines live (they always go to the log file)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spm``."""
    parser = argparse.ArgumentParser(
        prog="spm",
        description="Sales-performance warehouse: load, model, check and serve.",
        formatter_class=_HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    landing = {"default": str(settings.landing_dir()), "help": "landing folder to read"}
    warehouse = {"default": str(settings.warehouse_path()), "help": "DuckDB warehouse file"}

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, formatter_class=_HelpFormatter)

    generate = command("generate", "write a synthetic company's landing files")
    generate.add_argument("--scale", choices=["small", "medium", "large"], default="small", help="company size")
    generate.add_argument("--seed", type=int, default=42, help="random seed (same seed, same files)")
    generate.add_argument(
        "--as-of", type=_date, default=None, help="state of the world on this date, YYYY-MM-DD (default 2025-12-31)"
    )
    generate.add_argument("--out", required=True, help="landing folder to write")
    generate.set_defaults(func=cmd_generate)

    run = command("run", "load the landing folder and build and test the warehouse (the Dagster job warehouse_job)")
    run.add_argument("--landing", **landing)
    run.add_argument("--live", action="store_true", help="read the live APIs instead of a landing folder")
    run.add_argument("--warehouse", **warehouse)
    _add_output_options(run)
    run.set_defaults(func=cmd_run)

    demo = command("demo", "generate a company (unless the landing folder has one) and run the pipeline on it")
    demo.add_argument("--scale", choices=["small", "medium", "large"], default="small", help="company size")
    demo.add_argument("--seed", type=int, default=42, help="random seed")
    demo.add_argument("--landing", **landing)
    demo.add_argument("--warehouse", **warehouse)
    demo.add_argument("--fresh", action="store_true", help="regenerate and rebuild from scratch")
    _add_output_options(demo)
    demo.set_defaults(func=cmd_demo)

    ui = command("ui", "open the Dagster UI (dagster dev) on the project's runs and asset graph")
    ui.add_argument("--host", default="127.0.0.1", help="address to serve on")
    ui.add_argument("--port", type=int, default=3000, help="port to serve on")
    ui.add_argument("--landing", **landing)
    ui.add_argument("--warehouse", **warehouse)
    ui.set_defaults(func=cmd_ui)

    query = command(
        "query", "run one SQL statement against the warehouse, read-only (no files, other databases or extensions)"
    )
    query.add_argument("sql", help="the SQL statement")
    query.add_argument("--warehouse", **warehouse)
    query.add_argument("--max-rows", type=int, default=40, help="rows to print at most")
    query.set_defaults(func=cmd_query)

    check = command("check", "run every check (suites, dbt tests, freshness) without rebuilding; print a table")
    check.add_argument("--warehouse", **warehouse)
    check.add_argument("--full", action="store_true", help="re-validate every row, not only the latest loads")
    check.add_argument("--all", action="store_true", help="list passing checks too (default: problems only)")
    _add_output_options(check)
    check.set_defaults(func=cmd_check)

    bench = command("bench", "benchmark a full, an incremental and an empty run on a generated company")
    bench.add_argument("--scale", choices=["small", "medium", "large"], default="small", help="company size")
    bench.add_argument("--seed", type=int, default=42, help="random seed")
    bench.add_argument(
        "--as-of",
        type=_date,
        default=None,
        help="date of the full run, YYYY-MM-DD (default 2025-12-31); the incremental run loads the next day",
    )
    bench.add_argument("--workdir", default=str(settings.data_dir() / "bench"), help="scratch folder (regenerated)")
    bench.set_defaults(func=cmd_bench)

    from spm.backup_commands import add_backup_commands
    from spm.estimate_commands import add_estimate_command
    from spm.finance_commands import add_finance_commands
    from spm.report_commands import add_report_commands
    from spm.serving_commands import add_serving_commands

    add_finance_commands(commands, _HelpFormatter)
    add_estimate_command(commands, _HelpFormatter)
    add_serving_commands(commands, _HelpFormatter)
    add_report_commands(commands, _HelpFormatter)
    add_backup_commands(commands, _HelpFormatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spm`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"spm {args.command}: interrupted", file=sys.stderr)
        return 130
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
    """The ``spm`` console script: :func:`main`, then a quick exit (see ``core.process_exit``)."""
    exit_process(main())


if __name__ == "__main__":
    run()
