"""The floor: the same landing files read by DuckDB's own readers into tables (no dlt, no dbt)."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from ingestion.landing import LAYOUT


def read_with_duckdb(landing: Path, scratch: Path, batch_prefix: str | None = None) -> dict[str, object]:
    """Load every CRM, HRIS, survey and CSV plan entity of ``landing`` into ``scratch`` with DuckDB.

    Returns rows and seconds per entity and in total. YAML plan files are skipped (DuckDB has no
    YAML reader; they are a few kilobytes).
    """
    scratch.unlink(missing_ok=True)
    entities: dict[str, dict[str, float]] = {}
    started = time.monotonic()
    with duckdb.connect(str(scratch)) as con:
        # no progress bar: it printed over the benchmark's own output for every long read
        con.execute("set enable_progress_bar = false")
        for system, members in LAYOUT.items():
            for entity, ext in members.items():
                pattern = f"{batch_prefix}*" if batch_prefix else "*"
                files = sorted((landing / system / entity).glob(f"{pattern}.{ext}"))
                if not files or ext == "yaml":
                    continue
                paths = [str(p) for p in files]
                if ext == "jsonl":
                    reader = "read_json(?, format = 'newline_delimited', union_by_name = true)"
                elif ext == "json":
                    reader = "read_json(?, union_by_name = true)"
                else:
                    reader = "read_csv(?, union_by_name = true, all_varchar = true)"
                t0 = time.monotonic()
                con.execute(f'create table "{system}__{entity}" as select * from {reader}', [paths])
                rows = con.execute(f'select count(*) from "{system}__{entity}"').fetchone()[0]
                entities[f"{system}/{entity}"] = {"rows": rows, "seconds": round(time.monotonic() - t0, 3)}
    scratch.unlink(missing_ok=True)
    return {"seconds": round(time.monotonic() - started, 3), "entities": entities}
