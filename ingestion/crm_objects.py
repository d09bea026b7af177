"""HubSpot CRM v3 object shapes and their flattening into raw warehouse columns.

The same Arrow schema reads a landing JSONL file and a page of live API results, so both
paths produce identical raw tables. Property values stay text in raw (as HubSpot sends them);
staging models cast them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.arrow_tools import constant, explode, first_per_parent, line_numbers, non_nullable
from ingestion.errors import IngestionError

_ASSOCIATION = pa.struct([("results", pa.list_(pa.struct([("id", pa.string()), ("type", pa.string())])))])
_HISTORY_ENTRY = pa.struct(
    [("value", pa.string()), ("timestamp", pa.string()), ("sourceType", pa.string()), ("sourceId", pa.string())]
)


@dataclass(frozen=True)
class CrmObject:
    """A HubSpot object type: the properties we request and the associations we keep."""

    name: str
    properties: tuple[str, ...]
    associations: tuple[str, ...] = ()
    history: tuple[str, ...] = field(default=())

    def read_schema(self) -> pa.Schema:
        """Arrow schema of one ``results[]`` element (landing line or API record)."""
        fields = [
            ("id", pa.string()),
            ("properties", pa.struct([(p, pa.string()) for p in self.properties])),
            ("createdAt", pa.string()),
            ("updatedAt", pa.string()),
            ("archived", pa.bool_()),
            ("archivedAt", pa.string()),
        ]
        if self.associations:
            fields.append(("associations", pa.struct([(a, _ASSOCIATION) for a in self.associations])))
        if self.history:
            fields.append(("propertiesWithHistory", pa.struct([(h, pa.list_(_HISTORY_ENTRY)) for h in self.history])))
        return pa.schema(fields)


_ACTIVITY_ASSOCIATIONS = ("contacts", "companies", "deals")

CRM_OBJECTS: dict[str, CrmObject] = {
    o.name: o
    for o in (
        CrmObject(
            "companies",
            (
                "name",
                "domain",
                "industry",
                "country",
                "city",
                "numberofemployees",
                "annualrevenue",
                "hubspot_owner_id",
                "createdate",
                "hs_lastmodifieddate",
            ),
        ),
        CrmObject(
            "contacts",
            (
                "email",
                "firstname",
                "lastname",
                "jobtitle",
                "lifecyclestage",
                "hs_lead_status",
                "hubspot_owner_id",
                "createdate",
                "lastmodifieddate",
                "hs_lifecyclestage_lead_date",
                "hs_lifecyclestage_marketingqualifiedlead_date",
                "hs_lifecyclestage_salesqualifiedlead_date",
                "hs_lifecyclestage_opportunity_date",
                "hs_lifecyclestage_customer_date",
            ),
            associations=("companies",),
        ),
        CrmObject(
            "deals",
            (
                "dealname",
                "pipeline",
                "dealstage",
                "amount",
                "deal_currency_code",
                "closedate",
                "createdate",
                "hs_lastmodifieddate",
                "hubspot_owner_id",
                "dealtype",
                "closed_lost_reason",
                "hs_num_of_associated_line_items",
                "contract_term_months",
            ),
            associations=("companies", "contacts"),
            history=("dealstage",),
        ),
        CrmObject(
            "calls",
            (
                "hs_timestamp",
                "hs_call_title",
                "hs_call_direction",
                "hs_call_duration",
                "hs_call_disposition",
                "hs_call_status",
                "hubspot_owner_id",
                "hs_createdate",
                "hs_lastmodifieddate",
            ),
            associations=_ACTIVITY_ASSOCIATIONS,
        ),
        CrmObject(
            "emails",
            (
                "hs_timestamp",
                "hs_email_direction",
                "hs_email_status",
                "hs_email_subject",
                "hubspot_owner_id",
                "hs_createdate",
                "hs_lastmodifieddate",
            ),
            associations=_ACTIVITY_ASSOCIATIONS,
        ),
        CrmObject(
            "meetings",
            (
                "hs_timestamp",
                "hs_meeting_title",
                "hs_meeting_start_time",
                "hs_meeting_end_time",
                "hs_meeting_outcome",
                "hubspot_owner_id",
                "hs_createdate",
                "hs_lastmodifieddate",
            ),
            associations=_ACTIVITY_ASSOCIATIONS,
        ),
    )
}

#: Fields every object line must carry.
REQUIRED_OBJECT_FIELDS = ("id", "updatedAt")

OWNER_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("email", pa.string()),
        ("firstName", pa.string()),
        ("lastName", pa.string()),
        ("userId", pa.int64()),
        ("createdAt", pa.string()),
        ("updatedAt", pa.string()),
        ("archived", pa.bool_()),
        ("teams", pa.list_(pa.struct([("id", pa.string()), ("name", pa.string()), ("primary", pa.bool_())]))),
    ]
)
REQUIRED_OWNER_FIELDS = ("id", "updatedAt")

_SINGULAR = {"companies": "company", "contacts": "contact", "deals": "deal"}


def source_lines(table: pa.Table) -> pa.ChunkedArray | pa.Array:
    """The file line of each row: the column added before rejects were split off, else the row order."""
    if "_source_line" in table.column_names:
        return table.column("_source_line")
    return line_numbers(table.num_rows)


def flatten_objects(table: pa.Table, obj: CrmObject, source: str) -> pa.Table:
    """Raw columns for a batch of objects: id, every property (known and new), the first
    association of each kind, record timestamps, archive flag and the source file and line."""
    n = table.num_rows
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"id": table.column("id")}
    properties = table.column("properties")
    for prop in properties.type:
        if prop.name not in columns:
            columns[prop.name] = pc.struct_field(properties, prop.name)
    if "associations" in table.column_names:
        associations = table.column("associations")
        for kind in obj.associations:
            results = pc.struct_field(pc.struct_field(associations, kind), "results")
            columns[f"associated_{_SINGULAR[kind]}_id"] = first_per_parent(results, "id")
            columns[f"associated_{kind}_count"] = pc.fill_null(pc.list_value_length(results), 0)
    # Top-level fields HubSpot may add (e.g. ``url``) are kept as they came, not dropped.
    known = {*obj.read_schema().names, "_source_line"}
    for name in table.column_names:
        if name not in known:
            columns[name if name not in columns else f"record_{name}"] = table.column(name)
    columns["created_at"] = table.column("createdAt")
    columns["updated_at"] = table.column("updatedAt")
    columns["archived"] = pc.fill_null(table.column("archived"), False)
    columns["archived_at"] = table.column("archivedAt")
    columns["_source_file"] = constant(source, n)
    columns["_source_line"] = source_lines(table)
    return non_nullable(pa.table(columns), ("id",))


def flatten_history(table: pa.Table, obj: CrmObject, prop: str, source: str) -> pa.Table:
    """One row per entry of ``propertiesWithHistory.<prop>`` (e.g. the deal stage history)."""
    history = pc.struct_field(table.column("propertiesWithHistory"), prop)
    entries, parents = explode(history)
    ids = pc.take(table.column("id"), pa.array(parents))
    key = f"{obj.name.rstrip('s')}_id"
    for name in ("value", "timestamp"):
        missing = pc.is_null(pc.struct_field(entries, name))
        if pc.any(missing).as_py():
            row = int(parents[pc.index(missing, True).as_py()])
            raise IngestionError(
                f"a {prop} history entry of record {table.column('id')[row].as_py()} has no {name}",
                file=source,
                line=int(source_lines(table)[row].as_py()),
                field=f"propertiesWithHistory.{prop}.{name}",
            )
    history_table = pa.table(
        {
            key: ids,
            "value": pc.struct_field(entries, "value"),
            "changed_at": pc.struct_field(entries, "timestamp"),
            "source_type": pc.struct_field(entries, "sourceType"),
            "source_id": pc.struct_field(entries, "sourceId"),
            "_source_file": constant(source, len(entries)),
            "_source_line": pc.take(source_lines(table), pa.array(parents)),
        }
    )
    return non_nullable(history_table, (key, "value", "changed_at"))


def flatten_owners(table: pa.Table, source: str) -> pa.Table:
    """Raw owner columns, with the owner's primary team (HubSpot teams) as two columns."""
    n = table.num_rows
    teams = table.column("teams")
    owners = pa.table(
        {
            "id": table.column("id"),
            "email": table.column("email"),
            "first_name": table.column("firstName"),
            "last_name": table.column("lastName"),
            "user_id": table.column("userId"),
            "primary_team_id": first_per_parent(teams, "id", mask_field="primary"),
            "primary_team_name": first_per_parent(teams, "name", mask_field="primary"),
            "created_at": table.column("createdAt"),
            "updated_at": table.column("updatedAt"),
            "archived": pc.fill_null(table.column("archived"), False),
            "_source_file": constant(source, n),
            "_source_line": source_lines(table),
        }
    )
    return non_nullable(owners, ("id",))


def flatten_pipelines(document: dict, source: str) -> tuple[pa.Table, pa.Table]:
    """The deal pipelines response as a pipelines table and a pipeline-stages table."""
    pipelines, stages = [], []
    for pipeline in document["results"]:
        pipelines.append(
            {
                "id": str(pipeline["id"]),
                "label": pipeline.get("label"),
                "display_order": str(pipeline.get("displayOrder")),
                "archived": bool(pipeline.get("archived", False)),
                "created_at": pipeline.get("createdAt"),
                "updated_at": pipeline.get("updatedAt"),
                "_source_file": source,
            }
        )
        for stage in pipeline.get("stages", []):
            metadata = stage.get("metadata") or {}
            stages.append(
                {
                    "pipeline_id": str(pipeline["id"]),
                    "id": str(stage["id"]),
                    "label": stage.get("label"),
                    "display_order": str(stage.get("displayOrder")),
                    "is_closed": metadata.get("isClosed"),
                    "probability": metadata.get("probability"),
                    "archived": bool(stage.get("archived", False)),
                    "created_at": stage.get("createdAt"),
                    "updated_at": stage.get("updatedAt"),
                    "_source_file": source,
                }
            )
    return _text_table(pipelines, _PIPELINE_COLUMNS), _text_table(stages, _STAGE_COLUMNS)


_PIPELINE_COLUMNS = ("id", "label", "display_order", "archived", "created_at", "updated_at", "_source_file")
_STAGE_COLUMNS = (
    "pipeline_id",
    "id",
    "label",
    "display_order",
    "is_closed",
    "probability",
    "archived",
    "created_at",
    "updated_at",
    "_source_file",
)


def _text_table(rows: list[dict], columns: tuple[str, ...]) -> pa.Table:
    schema = pa.schema([(c, pa.bool_() if c == "archived" else pa.string()) for c in columns])
    return pa.Table.from_pylist(rows, schema=schema)
