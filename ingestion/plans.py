"""The sales-plan source: inputs finance and sales operations maintain as files.

Raw tables in dataset ``raw_plans``: quotas, plan_assignments, credit_splits, fx_rates,
manual_adjustments (optional: without a file the table is empty), and the commission plan YAML
flattened into commission_plans, plan_components and plan_tiers. Each batch holds the complete
current version of these files, so the newest file replaces the table on every run (a row
finance deleted disappears), unchanged or not: see :func:`ingestion.file_state.newest_file`.
``snapshot_files`` names the file each entity was replaced from, so that an empty snapshot (a
header-only CSV) can be reported with its file even though it left no row behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dlt
import pyarrow as pa
import yaml
from dlt.sources import DltResource

from ingestion.arrow_readers import read_csv
from ingestion.arrow_tools import constant, line_numbers
from ingestion.errors import IngestionError
from ingestion.file_state import newest_file
from ingestion.landing import LAYOUT, OPTIONAL_ENTITIES, LandingFile
from ingestion.records import as_text, text_table
from ingestion.resource_hints import RAW_SCHEMA_CONTRACT

SYSTEM = "plans"

#: Required columns of the manual-adjustment register; approval, pay period, corrected period and deal are optional.
ADJUSTMENT_REQUIRED = (
    "adjustment_id",
    "employee_id",
    "amount",
    "currency",
    "category",
    "reason",
    "requested_by",
    "requested_on",
    "status",
)
CSV_ENTITIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # entity: (documented columns, required columns)
    "quotas": (("employee_id", "period_month", "quota_amount", "currency"),) * 2,
    "plan_assignments": (
        ("assignment_id", "employee_id", "plan_id", "effective_from", "effective_to"),
        ("assignment_id", "employee_id", "plan_id", "effective_from"),
    ),
    "credit_splits": (("deal_id", "employee_id", "split_type", "split_pct"),) * 2,
    "fx_rates": (("period_month", "currency", "rate_to_reporting"),) * 2,
    # disputes and manual adjustments (docs/commission_plans.md); an optional entity
    "manual_adjustments": (
        (*ADJUSTMENT_REQUIRED, "approved_by", "approved_on", "pay_period", "corrects_period", "deal_id"),
        ADJUSTMENT_REQUIRED,
    ),
}
PLAN_FIELDS = (
    "plan_id",
    "version",
    "name",
    "effective_from",
    "effective_to",
    "currency",
    "period",
    "clawback_window_days",
    "rate_unit",
)
COMPONENT_FIELDS = (
    "component_id",
    "type",
    "tier_method",
    "credit_type",
    "gate_min_attainment",
    "cap_amount",
    "factor",
    "amount",
    "basis",
    "window_from",
    "window_to",
    "draw_type",
)
# Deal conditions a multiplier or SPIF may name under ``applies_to``, flattened to columns.
APPLIES_TO_CONDITIONS = ("dealtype", "pipeline", "contract_term_months_min")
TIER_FIELDS = ("from_attainment", "to_attainment", "rate")


def read_plans_yaml(path: Path) -> dict:
    """Parse a commission-plans YAML file, with the line of a syntax error."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise IngestionError(f"not UTF-8 encoded ({exc.reason})", file=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise IngestionError(f"malformed YAML: {exc}", file=path, line=mark.line + 1 if mark else None) from exc
    if not isinstance(document, dict) or not isinstance(document.get("plans"), list):
        raise IngestionError("unknown layout: expected a mapping with a 'plans' list", file=path)
    return document


def yaml_lines(text: str) -> dict[tuple[int, ...], int]:
    """1-based line of each plan, component and tier mapping, keyed by its index path.

    ``(p,)`` is plan p, ``(p, c)`` its component c, ``(p, c, t)`` that component's tier t; the
    commission engine's rule checks report these lines so finance can find the row to fix.
    """
    lines: dict[tuple[int, ...], int] = {}

    def child(node: yaml.Node, key: str) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == key:
                    return value_node
        return None

    def items(node: yaml.Node | None) -> list[yaml.Node]:
        return list(node.value) if isinstance(node, yaml.SequenceNode) else []

    root = yaml.compose(text)
    for p, plan in enumerate(items(child(root, "plans") if root else None)):
        lines[(p,)] = plan.start_mark.line + 1
        for c, component in enumerate(items(child(plan, "components"))):
            lines[(p, c)] = component.start_mark.line + 1
            for t, tier in enumerate(items(child(component, "tiers"))):
                lines[(p, c, t)] = tier.start_mark.line + 1
    return lines


def flatten_plans(document: dict, source: str, lines: dict[tuple[int, ...], int] | None = None) -> dict[str, pa.Table]:
    """Plans, their components and the components' tiers as three raw tables.

    Every plan and component also keeps its full definition as JSON text. Each row carries the
    YAML line it came from (``_source_line``, from :func:`yaml_lines`) and its path in the
    document (``_source_location``), so a rule check can name the row to fix.
    """
    lines = lines or {}
    plans, components, tiers = [], [], []
    reporting_currency = as_text(document.get("reporting_currency"))
    for p_index, plan in enumerate(document["plans"]):
        where = f"plans[{p_index}]"
        if not isinstance(plan, dict):
            raise IngestionError("a plan must be a mapping", file=source, field=where)
        plan_row = {k: plan.get(k) for k in PLAN_FIELDS}
        plan_row["reporting_currency"] = reporting_currency
        plan_row["definition_json"] = json.dumps(plan, default=as_text, sort_keys=True)
        plan_row["_source_line"] = lines.get((p_index,))
        plan_row["_source_location"] = where
        plans.append(plan_row)
        for c_index, component in enumerate(plan.get("components") or []):
            c_where = f"{where}.components[{c_index}]"
            if not isinstance(component, dict):
                raise IngestionError("a component must be a mapping", file=source, field=c_where)
            row = {"plan_id": plan.get("plan_id"), "version": plan.get("version")}
            row.update({k: component.get(k) for k in COMPONENT_FIELDS})
            row.update(applies_to_columns(component.get("applies_to"), source, f"{c_where}.applies_to"))
            row["definition_json"] = json.dumps(component, default=as_text, sort_keys=True)
            row["_source_line"] = lines.get((p_index, c_index))
            row["_source_location"] = c_where
            components.append(row)
            for t_index, tier in enumerate(component.get("tiers") or []):
                if not isinstance(tier, dict):
                    raise IngestionError("a tier must be a mapping", file=source, field=f"{c_where}.tiers[{t_index}]")
                tier_row = {
                    "plan_id": plan.get("plan_id"),
                    "version": plan.get("version"),
                    "component_id": component.get("component_id"),
                    "tier_number": t_index + 1,
                }
                tier_row.update({k: tier.get(k) for k in TIER_FIELDS})
                tier_row["rate_unit"] = plan.get("rate_unit")
                tier_row["_source_line"] = lines.get((p_index, c_index, t_index))
                tier_row["_source_location"] = f"{c_where}.tiers[{t_index}]"
                tiers.append(tier_row)
    return {
        "commission_plans": text_table(
            plans,
            (*PLAN_FIELDS, "reporting_currency", "definition_json", "_source_line", "_source_location"),
            file=source,
            location="plans",
            required=("plan_id", "version", "effective_from"),
        ),
        "plan_components": text_table(
            components,
            (
                "plan_id",
                "version",
                *COMPONENT_FIELDS,
                *(f"applies_to_{name}" for name in APPLIES_TO_CONDITIONS),
                "definition_json",
                "_source_line",
                "_source_location",
            ),
            file=source,
            location="plans[].components",
            required=("plan_id", "component_id", "type"),
        ),
        "plan_tiers": text_table(
            tiers,
            (
                "plan_id",
                "version",
                "component_id",
                "tier_number",
                *TIER_FIELDS,
                "rate_unit",
                "_source_line",
                "_source_location",
            ),
            file=source,
            location="plans[].components[].tiers",
            required=("from_attainment", "rate"),
        ),
    }


def applies_to_columns(conditions: object, source: str, where: str) -> dict[str, object]:
    """The ``applies_to`` deal conditions of a multiplier or SPIF as ``applies_to_<name>`` values.

    An unknown condition is an error naming the file and field: a rule that silently matched
    every deal would pay the wrong people.
    """
    if conditions in (None, {}):
        return {}
    if not isinstance(conditions, dict):
        raise IngestionError("applies_to must be a mapping of deal conditions", file=source, field=where)
    unknown = sorted(set(conditions) - set(APPLIES_TO_CONDITIONS))
    if unknown:
        raise IngestionError(
            f"unknown deal condition {unknown[0]!r} (known: {', '.join(APPLIES_TO_CONDITIONS)})",
            file=source,
            field=f"{where}.{unknown[0]}",
        )
    return {f"applies_to_{name}": value for name, value in conditions.items()}


@dlt.source(name="plans", max_table_nesting=0, schema_contract=RAW_SCHEMA_CONTRACT)
def plans_source(landing_dir: str | Path) -> list[DltResource]:
    """Quotas, plan assignments, credit splits, FX rates and commission plans from the landing folder."""
    landing = Path(landing_dir)

    def csv_resource(entity: str) -> DltResource:
        columns, required = CSV_ENTITIES[entity]

        def rows() -> Iterator[pa.Table]:
            file = newest_file(landing, SYSTEM, entity)
            if file is None:
                if (SYSTEM, entity) in OPTIONAL_ENTITIES:  # no register yet: an empty table models can read
                    yield pa.table(
                        {
                            **{name: pa.array([], pa.string()) for name in (*columns, "_source_file")},
                            "_source_line": line_numbers(0, first=2),
                        }
                    )
                return
            table = read_csv(file.path, columns, required)
            n = table.num_rows
            yield table.append_column("_source_file", constant(file.relpath, n)).append_column(
                "_source_line", line_numbers(n, first=2)
            )

        return dlt.resource(rows, name=entity, write_disposition="replace")

    @dlt.resource(name="plan_documents", selected=False)
    def plan_documents() -> Iterator[tuple[LandingFile, dict[str, pa.Table]]]:
        file = newest_file(landing, SYSTEM, "commission_plans")
        if file is None:
            return
        document = read_plans_yaml(file.path)
        lines = yaml_lines(file.path.read_text(encoding="utf-8"))
        yield file, flatten_plans(document, file.relpath, lines)

    def plan_table(name: str) -> DltResource:
        def pick(item: tuple[LandingFile, dict[str, pa.Table]]) -> Iterator[pa.Table]:
            yield item[1][name]

        return dlt.transformer(pick, name=name, data_from=plan_documents, write_disposition="replace")

    @dlt.resource(name="snapshot_files", write_disposition="replace")
    def snapshot_files() -> Iterator[pa.Table]:
        """The file each plan entity is replaced from in this load (one row per entity that has one)."""
        found = [(entity, newest_file(landing, SYSTEM, entity)) for entity in LAYOUT[SYSTEM]]
        rows = [{"entity": entity, "_source_file": file.relpath} for entity, file in found if file is not None]
        yield pa.table(
            {name: pa.array([row[name] for row in rows], pa.string()) for name in ("entity", "_source_file")}
        )

    return [
        *(csv_resource(entity) for entity in CSV_ENTITIES),
        *(plan_table(name) for name in ("commission_plans", "plan_components", "plan_tiers")),
        snapshot_files,
    ]
