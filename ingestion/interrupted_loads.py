"""A load killed half-way is finished before the next run extracts, without rows written twice.

dlt keeps a load package until every job in it is done, and on the next run loads what is left:
jobs marked completed are skipped, jobs found started are run again. A job that had committed
its rows when the process was killed, but had not yet been marked, is therefore run twice. For
a merged table that is harmless: its rows go to a staging table and the merge keeps one row per
key. A replaced table (its rows staged, then copied over) and a first load that appends
(first_load.py) would keep both copies.

Every raw row carries where it came from (``_source_file`` and ``_source_line``, or the record
id for the pipeline lists), so within one load package no two rows are equal unless a job wrote
them twice. After finishing such a package, each table a re-run job wrote keeps one of each.

A package killed before its load began (after extract, while normalizing, or between the two
renames that commit a normalized package, where dlt logs "do not kill this process" and leaves
the package both extracted and normalized) is not finished but discarded with dlt's
``abort_packages``, which also rewinds the pipeline state (the per-file cursors) to where that
package started: the run then reads the same files again, as a clean run would. Finishing it
instead failed for good in the commit window (``Directory not empty``), and after a kill right
after extract it normalized with the schema of the run before (dlt prefers its stored schema to
the package's), appending a delta that should have been merged: every row twice.

dlt's own ``run`` loads a pending package and returns without extracting the new data it was
given; :func:`finish_interrupted_load` is called first, so the run that follows a crash both
deals with the old package and loads what arrived since.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import dlt

log = logging.getLogger(__name__)


def finish_interrupted_load(pipeline: dlt.Pipeline) -> dict[str, dict[str, int]]:
    """Load what a killed run of ``pipeline`` left pending and remove the rows it wrote twice.

    Returns, per finished load package, the tables that had a job run again and the number of
    duplicate rows removed from each (empty when nothing was pending).
    """
    if not pipeline.has_pending_data:
        return {}
    jobs = {
        load_id: pipeline.get_load_package_info(load_id).jobs for load_id in pipeline.list_normalized_load_packages()
    }
    loading = {load_id: states for load_id, states in jobs.items() if load_began(states)}
    if not loading:
        discard_unloaded_packages(pipeline)
        return {}
    rerun = {
        load_id: {job.job_file_info.table_name for job in states.get("started_jobs", [])}
        for load_id, states in loading.items()
    }
    log.warning(
        "pipeline %s: finishing %d load package(s) an interrupted run left: %s",
        pipeline.pipeline_name,
        len(rerun),
        ", ".join(rerun),
    )
    pipeline.load()
    removed: dict[str, dict[str, int]] = {}
    with pipeline.sql_client() as client:
        for load_id, tables in rerun.items():
            removed[load_id] = {
                table: remove_rows_written_twice(client, table, load_id)
                for table in sorted(tables)
                if not table.startswith("_dlt")
            }
    return removed


def load_began(jobs: Mapping[str, Sequence[Any]]) -> bool:
    """Whether a job of a normalized package was started or finished (``jobs``: its jobs by state,
    as ``Pipeline.get_load_package_info(...).jobs`` lists them)."""
    return any(jobs.get(state) for state in ("started_jobs", "completed_jobs", "failed_jobs"))


def discard_unloaded_packages(pipeline: dlt.Pipeline) -> list[str]:
    """Discard every pending package of ``pipeline`` (none began loading) and rewind its state to
    where the oldest started, so the next run extracts their files again; the packages discarded."""
    pending = sorted({*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()})
    log.warning(
        "pipeline %s: discarding %d package(s) an interrupted run left before loading them (%s); "
        "their files are read again",
        pipeline.pipeline_name,
        len(pending),
        ", ".join(pending),
    )
    pipeline.abort_packages()
    return pending


def remove_rows_written_twice(client: Any, table: str, load_id: str) -> int:
    """Keep one of each set of equal rows that load ``load_id`` wrote to ``table``; rows removed.

    ``client`` is the pipeline's SQL client, open. Rows of other loads are not touched; the
    rewrite runs in one transaction.
    """
    qualified = client.make_qualified_table_name(table)
    names = [
        row[0]
        for row in client.execute_sql(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
            "order by ordinal_position",
            client.dataset_name,
            table,
        )
    ]
    if "_dlt_load_id" not in names:
        return 0
    columns = ", ".join(client.escape_column_name(name) for name in names)
    counts = client.execute_sql(
        f"select count(*), count(distinct ({columns})) from {qualified} where _dlt_load_id = %s", load_id
    )
    total, distinct = counts[0]
    if total == distinct:
        return 0
    with client.begin_transaction():
        client.execute_sql(
            f"create temporary table spm_rows_once as "
            f"select distinct {columns} from {qualified} where _dlt_load_id = %s",
            load_id,
        )
        client.execute_sql(f"delete from {qualified} where _dlt_load_id = %s", load_id)
        client.execute_sql(f"insert into {qualified} ({columns}) select {columns} from spm_rows_once")
        client.execute_sql("drop table spm_rows_once")
    log.warning("%s: removed %d rows that load %s wrote twice", qualified, total - distinct, load_id)
    return total - distinct
