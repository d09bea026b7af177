"""dlt pipelines: one per source, all writing the one warehouse file, each into its raw dataset."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.sources import DltSource

from core import settings
from ingestion.crm import crm_source
from ingestion.hris import hris_source
from ingestion.landing import LAYOUT
from ingestion.plans import plans_source
from ingestion.pseudonyms import pseudonym_key
from ingestion.surveys import surveys_source

#: source name -> raw dataset (schema) in the warehouse.
RAW_DATASETS: dict[str, str] = {
    "crm": "raw_crm",
    "hris": "raw_hris",
    "surveys": "raw_surveys",
    "plans": "raw_plans",
}

_SOURCES = {"crm": crm_source, "hris": hris_source, "surveys": surveys_source, "plans": plans_source}


def make_source(name: str, landing_dir: str | Path | None, warehouse: str | Path | None = None) -> DltSource:
    """The dlt source ``name`` reading ``landing_dir`` (None = live API where supported).

    The surveys source pseudonymises respondents with the key configured in dlt's secrets or
    generated beside ``warehouse`` (:mod:`ingestion.pseudonyms`).
    """
    if landing_dir is None and name in {"surveys", "plans"}:
        raise ValueError(f"the {name} source reads the landing folder only; pass a landing folder")
    landing = str(landing_dir) if landing_dir is not None else None
    if name == "surveys":
        return surveys_source(landing_dir=landing, pseudonym_key=pseudonym_key(warehouse))
    return _SOURCES[name](landing_dir=landing)


def make_pipeline(
    name: str,
    warehouse: str | Path,
    pipelines_dir: str | Path | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> dlt.Pipeline:
    """The dlt pipeline of source ``name`` loading into ``warehouse`` (a DuckDB file).

    Pipeline working state lives next to the warehouse (``<warehouse dir>/.dlt_pipelines``)
    unless ``pipelines_dir`` is given, so two warehouses never share cursors. With ``connection``
    (open on ``warehouse``, closed by the caller) dlt works on it instead of opening the file
    itself: dlt closes the database whenever its last borrowed connection is returned, and each
    reopening reads the catalog again (16 times, about 1.2 s, in a day's CRM load at large).
    """
    warehouse = Path(warehouse).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    if pipelines_dir is None:
        pipelines_dir = settings.dlt_pipelines_dir(warehouse)
    # No anonymous usage events sent to dltHub from a company's warehouse runs.
    dlt.config["runtime.dlthub_telemetry"] = False
    # Arrow tables get the _dlt_load_id column like dict rows do: rejects and audits trace to a load.
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    # One reader at a time: in dlt's default round-robin mode every entity's reader holds a block
    # of Arrow rows at once, which multiplied the extract's memory at large.
    dlt.config["extract.next_item_mode"] = "fifo"
    # A load package's parquet files are deleted once loaded (the raw tables hold the rows): at
    # large they were 1.3 GB per run left in the pipelines folder.
    dlt.config["load.delete_completed_jobs"] = True
    # Those files live minutes, on local disk: writing them uncompressed saved 2.5 s of the 24 s
    # extract of 6.1 M calls (446 MB snappy, 1.2 GB plain), and DuckDB reads them as fast.
    dlt.config["data_writer.compression"] = "none"
    # A replaced table (plans, pipelines) is loaded into staging and swapped in by one SQL job, so a
    # load killed half-way never leaves it truncated.
    dlt.config["destination.replace_strategy"] = "insert-from-staging"
    return dlt.pipeline(
        pipeline_name=f"spm_{name}",
        destination=dlt.destinations.duckdb(
            DuckDbCredentials(connection or str(warehouse), global_config=settings.duckdb_config()),
            # dlt's merge staging tables go to one schema per source, named so they sort apart from raw.
            staging_dataset_name_layout="_dlt_staging_%s",
            # Each merge (delete, then insert) runs in one transaction: a kill between them used to
            # leave the table emptied until the next run.
            supports_transactions=True,
        ),
        dataset_name=RAW_DATASETS[name],
        pipelines_dir=str(pipelines_dir),
    )


#: Raw tables fed by another entity's landing files (one file read, several tables).
_LANDING_ENTITY = {
    ("crm", "deal_stage_history"): "deals",
    ("crm", "pipeline_stages"): "pipelines",
    ("surveys", "survey_questions"): "surveys",
    ("plans", "plan_components"): "commission_plans",
    ("plans", "plan_tiers"): "commission_plans",
}


def landing_entity(source: str, table: str) -> str:
    """The landing entity folder a raw table is read from (``<entity>_rejected``: the entity's)."""
    table = table.removesuffix("_rejected")
    return _LANDING_ENTITY.get((source, table), table)


def landing_entities(source: str, table: str) -> tuple[str, ...]:
    """Every landing entity folder a raw table is read from: ``raw_plans.snapshot_files`` lists
    the snapshot file of each plan entity; any other table is read from one folder."""
    if (source, table) == ("plans", "snapshot_files"):
        return tuple(LAYOUT["plans"])
    return (landing_entity(source, table),)
