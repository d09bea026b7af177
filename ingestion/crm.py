"""The CRM source: HubSpot CRM v3 objects from the landing folder or the live API.

Raw tables in dataset ``raw_crm``: owners, companies, contacts, deals, deal_stage_history,
calls, emails, meetings, pipelines, pipeline_stages. Objects are merged on ``id`` (newest
``updatedAt`` wins); deal stage history is replaced per deal, since HubSpot returns the whole
history with every deal version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.items import DataItemWithMeta
from dlt.sources import DltResource

from ingestion.arrow_readers import iter_jsonl, read_json_document, read_jsonl
from ingestion.crm_objects import (
    CRM_OBJECTS,
    OWNER_SCHEMA,
    REQUIRED_OBJECT_FIELDS,
    REQUIRED_OWNER_FIELDS,
    CrmObject,
    flatten_history,
    flatten_objects,
    flatten_owners,
    flatten_pipelines,
)
from ingestion.errors import IngestionError
from ingestion.file_state import iter_pending_blocks, iter_pending_tables, newest_file
from ingestion.first_load import END_OF_PAGES, FirstLoad
from ingestion.hubspot_api import HubSpotApi, filter_since
from ingestion.landing import LandingFile
from ingestion.rejects import EarlierBlocks, Split, rejects_resource, split_rejects, with_line_numbers
from ingestion.resource_hints import MERGE, RAW_SCHEMA_CONTRACT, latest_wins
from ingestion.stale_versions import newer_than_loaded

SYSTEM = "crm"


@dlt.source(name="crm", max_table_nesting=0, schema_contract=RAW_SCHEMA_CONTRACT)
def crm_source(landing_dir: str | Path | None = None, api: HubSpotApi | None = None) -> list[DltResource]:
    """HubSpot CRM objects, read from ``landing_dir`` or, when it is None, from ``api``.

    In API mode the token comes from ``HubSpotApi.from_secrets()`` (environment variable
    ``SOURCES__CRM__HUBSPOT_API_TOKEN`` or ``.dlt/secrets.toml``), never from the repository.
    """
    if landing_dir is None and api is None:
        api = HubSpotApi.from_secrets()
    landing = Path(landing_dir) if landing_dir is not None else None

    def object_pages(obj: CrmObject) -> Iterator[tuple[str, Split]]:
        """Each landing file (or API page) of ``obj`` not loaded yet, split into rows and rejects;
        after the last one, if there was any, an empty :data:`END_OF_PAGES` item."""
        last: Split | None = None
        for origin, split in _object_pages(obj):
            last = split
            yield origin, split
        if last is not None:
            yield END_OF_PAGES, Split(last.rows.slice(0, 0), last.rejected.slice(0, 0))

    def _object_pages(obj: CrmObject) -> Iterator[tuple[str, Split]]:
        if landing is not None:
            # Files are read in blocks: a million-record export costs the memory of one block (two,
            # as the next block is read, parsed and split in a worker while this one is written).
            earlier = EarlierBlocks("id", "updatedAt")
            for file, _, split in iter_pending_blocks(
                landing, SYSTEM, obj.name, lambda f: _split_blocks(f, obj, earlier), ahead=1
            ):
                yield file.relpath, split
        else:
            assert api is not None
            # The cursor of the previous run filters every page of this run; the new cursor is
            # committed (with the load package) only after the last page.
            state = dlt.current.resource_state()
            since, newest_seen = state.get("cursor"), state.get("cursor")
            for origin, records in api.object_pages(obj):
                split = _split(_from_records(records, obj.read_schema(), origin), origin)
                rows, newest = filter_since(split.rows, since, api.lookback)
                if newest and (newest_seen is None or newest > newest_seen):
                    newest_seen = newest
                yield origin, Split(rows, split.rejected)
            state["cursor"] = newest_seen

    def object_resources(obj: CrmObject, *extra: Callable[[DltResource], DltResource]) -> list[DltResource]:
        """Reader of ``obj`` (not loaded itself), its raw table, its rejects table and ``extra``."""
        reader = dlt.resource(lambda: object_pages(obj), name=f"{obj.name}_pages", selected=False)
        reader.add_map(newer_than_loaded(obj.name))  # an older version arriving late must not overwrite

        first_load = FirstLoad(obj.name, ("id",))

        def rows(item: tuple[str, Split]) -> Iterator[pa.Table | DataItemWithMeta]:
            origin, split = item
            yield first_load.item(origin, flatten_objects(split.rows, obj, origin))

        table = dlt.transformer(
            rows, name=obj.name, data_from=reader, primary_key="id", write_disposition=MERGE, columns=latest_wins()
        )
        return [table, *(make(reader) for make in extra), rejects_resource(obj.name, reader)]

    def owner_pages() -> Iterator[tuple[str, Split]]:
        if landing is not None:
            for file, table in iter_pending_tables(
                landing, SYSTEM, "owners", lambda f: read_jsonl(f.path, OWNER_SCHEMA)
            ):
                yield file.relpath, _split(table, file.relpath, REQUIRED_OWNER_FIELDS)
        else:
            assert api is not None
            for origin, records in api.owner_pages():
                yield origin, _split(_from_records(records, OWNER_SCHEMA, origin), origin, REQUIRED_OWNER_FIELDS)

    owner_reader = dlt.resource(owner_pages, name="owners_pages", selected=False).add_map(newer_than_loaded("owners"))

    @dlt.transformer(
        name="owners", data_from=owner_reader, primary_key="id", write_disposition=MERGE, columns=latest_wins()
    )
    def owners(item: tuple[str, Split]) -> Iterator[pa.Table]:
        origin, split = item
        yield flatten_owners(split.rows, origin)

    deal = CRM_OBJECTS["deals"]

    def deal_stage_history(reader: DltResource) -> DltResource:
        history_key = ("deal_id", "changed_at", "value")
        first_load = FirstLoad("deal_stage_history", history_key)

        def history(item: tuple[str, Split]) -> Iterator[pa.Table | DataItemWithMeta]:
            origin, split = item
            yield first_load.item(origin, flatten_history(split.rows, deal, "dealstage", origin))

        return dlt.transformer(
            history,
            name="deal_stage_history",
            data_from=reader,
            primary_key=history_key,
            merge_key="deal_id",
            write_disposition=MERGE,
        )

    @dlt.resource(name="pipeline_documents", selected=False)
    def pipeline_documents() -> Iterator[tuple[str, dict]]:
        if landing is not None:
            file = newest_file(landing, SYSTEM, "pipelines")
            if file is not None:
                document = read_json_document(file.path)
                _check_pipelines(document, file.path)
                yield file.relpath, document
        else:
            assert api is not None
            yield api.pipelines()

    @dlt.transformer(name="pipelines", data_from=pipeline_documents, write_disposition="replace")
    def pipelines(item: tuple[str, dict]) -> Iterator[pa.Table]:
        yield flatten_pipelines(item[1], item[0])[0]

    @dlt.transformer(name="pipeline_stages", data_from=pipeline_documents, write_disposition="replace")
    def pipeline_stages(item: tuple[str, dict]) -> Iterator[pa.Table]:
        yield flatten_pipelines(item[1], item[0])[1]

    resources: list[DltResource] = [owners, rejects_resource("owners", owner_reader)]
    resources += object_resources(CRM_OBJECTS["companies"]) + object_resources(CRM_OBJECTS["contacts"])
    resources += object_resources(deal, deal_stage_history)
    for name in ("calls", "emails", "meetings"):
        resources += object_resources(CRM_OBJECTS[name])
    resources += [pipelines, pipeline_stages]
    return resources


def _split_blocks(file: LandingFile, obj: CrmObject, earlier: EarlierBlocks) -> Iterator[tuple[int, Split]]:
    """Each block of a landing file of ``obj``: its first line, and its rows split from rejects
    (including lines that repeat a line of an earlier block of the file)."""
    for first_line, table in iter_jsonl(file.path, obj.read_schema()):
        yield first_line, earlier.check(file.relpath, _split(table, file.relpath, first_line=first_line))


def _split(
    table: pa.Table, origin: str, required: tuple[str, ...] = REQUIRED_OBJECT_FIELDS, first_line: int = 1
) -> Split:
    """Rows of one file (block) or page to load, and those that cannot be merged (kept as rejects)."""
    return split_rejects(
        with_line_numbers(table, first_line), key="id", version="updatedAt", required=required, source=origin
    )


def _from_records(records: list[dict], schema: pa.Schema, origin: str) -> pa.Table:
    """An API page (list of result dicts) as an Arrow table of the landing schema."""
    try:
        return pa.Table.from_pylist(records, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise IngestionError(f"unexpected record shape: {exc}", file=origin) from exc


def _check_pipelines(document: object, path: Path) -> None:
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise IngestionError('unknown layout: expected a pipelines response {"results": [...]}', file=path)
    for number, pipeline in enumerate(document["results"], start=1):
        for key in ("id", "stages"):
            if key not in pipeline:
                raise IngestionError(
                    f"pipeline #{number} lacks '{key}'", file=path, field=f"results[{number - 1}].{key}"
                )
