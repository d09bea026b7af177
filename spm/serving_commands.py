"""The serving sub-commands of ``spm``: publish (the Dagster job ``publish_job``) and doctor."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import settings
from spm.output import fail, say

NOT_OURS = "not a writer of this project: point it at the serving file"


@dataclass
class PublishOutcome:
    """What a run of ``publish_job`` did: its metadata, or the error that stopped it."""

    metadata: dict[str, Any]
    error: str
    log_path: Path
    run_id: str

    def line(self) -> str:
        """``Published for BI tools: ...`` or ``Publish FAILED: ...``."""
        from spm.run_summary import published_line

        if self.error:
            return f"Publish FAILED: {self.error} (log: {self.log_path}); `spm publish` retries it"
        return published_line(self.metadata)


def run_publish(
    definitions: Any, command: str, config: dict[str, Any], quiet: bool = False, verbose: bool = False
) -> PublishOutcome:
    """Run ``publish_job`` with ``config`` (``ops.publish.config``) in this process."""
    from orchestration.defs.serving import PUBLISH_STEP, SERVING_KEY
    from spm.job_runner import run_job
    from spm.run_summary import root_cause

    run = run_job(
        definitions, "publish_job", command, {"ops": {PUBLISH_STEP: {"config": config}}}, quiet=quiet, verbose=verbose
    )
    for event in run.result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data
            described = error.user_failure_data.description if error.user_failure_data is not None else None
            return PublishOutcome({}, described or root_cause(error.error), run.log_path, run.run_id)
    metadata = {
        key: value
        for materialization in run.result.asset_materializations_for_node(PUBLISH_STEP)
        if materialization.asset_key == SERVING_KEY
        for key, value in materialization.metadata.items()
    }
    if not metadata:
        return PublishOutcome({}, "the publish step recorded nothing", run.log_path, run.run_id)
    return PublishOutcome(metadata, "", run.log_path, run.run_id)


def publish_after(
    definitions: Any, run: Any, command: str, quiet: bool = False, verbose: bool = False
) -> PublishOutcome:
    """``publish_job`` after ``run`` (a successful warehouse or close run `spm` made): what that
    run validated goes to the serving file, in a run of its own."""
    return run_publish(definitions, command, {"validated_by_run": run.run_id}, quiet=quiet, verbose=verbose)


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the warehouse's BI-facing tables to the serving file (and Parquet), as they stand."""
    warehouse = Path(args.warehouse).resolve()
    if not warehouse.is_file():
        return fail("publish", f"no warehouse at {warehouse} (run `spm run` first, or pass --warehouse)")
    from orchestration.dbt_manifest import ManifestError, ensure_manifest, manifest_describes_project

    try:
        if not manifest_describes_project():  # the definitions need it; no dbt runs here
            ensure_manifest(warehouse)
    except ManifestError as exc:
        return fail("publish", str(exc))
    from orchestration.definitions import build_definitions

    config: dict[str, Any] = {"publish_survey_answers": bool(args.survey_answers)}
    if args.serving:
        config["serving_path"] = str(Path(args.serving).resolve())
    if args.parquet:
        config["parquet_dir"] = str(Path(args.parquet).resolve())
    outcome = run_publish(build_definitions(warehouse=warehouse), "publish", config, args.quiet, args.verbose)
    if outcome.error:
        return fail("publish", f"{outcome.error} (log: {outcome.log_path})", status=1)
    metadata = {key: getattr(value, "value", value) for key, value in outcome.metadata.items()}
    say(
        f"Published {metadata['tables']} tables, {metadata['dagster/row_count']:,} rows, to {metadata['path']} "
        f"({metadata['size_mib']} MiB, {metadata['seconds']} s)"
    )
    if "parquet_dir" in metadata:
        say(f"Parquet: {metadata['parquet_files']} files in {metadata['parquet_dir']}")
    say(f"Log: {outcome.log_path}\nDagster run {outcome.run_id} (`spm ui` shows it)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Say who has the warehouse open and how fresh the serving file is; exit 1 when a process
    that is not one of the project's writers holds the warehouse (a BI tool should read the
    serving file instead)."""
    import duckdb

    from core.file_holders import processes_holding
    from serving.publish import INFO_SCHEMA

    warehouse = Path(args.warehouse).resolve()
    serving = Path(args.serving).resolve() if args.serving else settings.serving_path(warehouse)
    if not warehouse.is_file():
        return fail("doctor", f"no warehouse at {warehouse} (run `spm run` first, or pass --warehouse)")
    status = 0
    holders = processes_holding(warehouse)
    say(f"Warehouse {warehouse}: {'open in ' + str(len(holders)) + ' process(es)' if holders else 'not open'}")
    for holder in holders:
        role = "a run of this project" if holder.ours else NOT_OURS
        say(f"  PID {holder.pid} ({role}): {holder.command}")
        status = status or (0 if holder.ours else 1)
    if not serving.is_file():
        say(f"Serving file {serving}: missing (a successful `spm run` or `spm publish` writes it)")
        return status
    try:
        with duckdb.connect(str(serving), read_only=True) as connection:
            published_at, run_id, version = connection.execute(
                f"select published_at, run_id, storage_version from {INFO_SCHEMA}.publication"
            ).fetchone()
            tables, rows = connection.execute(f"select count(*), sum(row_count) from {INFO_SCHEMA}.tables").fetchone()
    except duckdb.Error as exc:
        return fail("doctor", f"cannot read the serving file {serving}: {str(exc).splitlines()[0]}", status=1)
    age = dt.datetime.now(dt.UTC).replace(tzinfo=None) - published_at
    say(
        f"Serving file {serving}: {tables} tables, {int(rows or 0):,} rows, "
        f"published {published_at:%Y-%m-%d %H:%M} UTC ({_age(age)} ago) by run {run_id or '(none)'}; "
        f"DuckDB storage {version}, readable by DuckDB 1.1 and later"
    )
    return status


def _age(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def add_serving_commands(commands: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``publish`` and ``doctor`` on the ``spm`` parser."""
    warehouse = {"default": str(settings.warehouse_path()), "help": "DuckDB warehouse file"}
    serving = {
        "default": None,
        "help": "serving DuckDB file (default: SPM_SERVING, else serving.duckdb beside the warehouse)",
    }

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, formatter_class=formatter)

    publish = command("publish", "publish the warehouse's BI-facing tables to the serving file BI tools open")
    publish.add_argument("--warehouse", **warehouse)
    publish.add_argument("--serving", **serving)
    publish.add_argument(
        "--parquet", metavar="DIR", default=None, help="also write each table as DIR/<schema>/<table>.parquet"
    )
    publish.add_argument(
        "--survey-answers",
        action="store_true",
        help="also publish marts.fct_survey_responses (answers one by one; SPM_PUBLISH_SURVEY_ANSWERS=true too)",
    )
    group = publish.add_mutually_exclusive_group()
    group.add_argument("--quiet", action="store_true", help="print only the outcome (no step lines)")
    group.add_argument("--verbose", action="store_true", help="show Dagster's log lines live")
    publish.set_defaults(func=cmd_publish)

    doctor = command("doctor", "name the processes holding the warehouse open and say how fresh the serving file is")
    doctor.add_argument("--warehouse", **warehouse)
    doctor.add_argument("--serving", **serving)
    doctor.set_defaults(func=cmd_doctor)
