"""The Dagster definitions load and keep their public shape (asset keys, jobs, schedules)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ingestion.landing import LAYOUT


@pytest.fixture(scope="module")
def definitions(dbt_manifest: Path) -> dg.Definitions:
    from orchestration.build import build_definitions

    return build_definitions(Path("/nonexistent/w.duckdb"), Path("/nonexistent/landing"))


def test_asset_layers(definitions: dg.Definitions) -> None:
    keys = {k.to_user_string() for k in definitions.resolve_asset_graph().get_all_asset_keys()}
    landing = {k for k in keys if k.startswith("landing/")}
    raw = {k for k in keys if k.startswith("raw_")}
    staging = {k for k in keys if k.startswith("staging/")}
    assert landing == {f"landing/{s}/{e}" for s, entities in LAYOUT.items() for e in entities}
    assert {"raw_crm/deals", "raw_crm/deal_stage_history", "raw_hris/job_info", "raw_plans/plan_tiers"} <= raw
    # 23 raw tables and the rejects tables of the 9 entities merged on a key
    assert len(raw) == 23 + 9 and {"raw_crm/deals_rejected", "raw_surveys/answers_rejected"} <= raw
    assert {"staging/stg_crm__deals", "staging/stg_hris__job_history", "staging/stg_plans__quotas"} <= staging


def test_lineage_runs_from_landing_to_staging(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    deals = dg.AssetKey(["staging", "stg_crm__deals"])
    raw = dg.AssetKey(["raw_crm", "deals"])
    base = dg.AssetKey(["staging", "base_crm__deals"])  # typed, with the check each record fails
    assert graph.get(deals).parent_keys == {base} and raw in graph.get(base).parent_keys
    assert {dg.AssetKey(["raw_crm", "deals_rejected"]), base} <= graph.get(
        dg.AssetKey(["rejects", "rejects_crm__deals"])
    ).parent_keys
    assert dg.AssetKey(["landing", "crm", "deals"]) in graph.get(raw).parent_keys
    history = graph.get(dg.AssetKey(["raw_crm", "deal_stage_history"]))
    assert dg.AssetKey(["landing", "crm", "deals"]) in history.parent_keys
    # every dbt source is an asset some dlt load materialises: no gap in the lineage
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        for parent in node.parent_keys:
            assert graph.has(parent), f"{key.to_user_string()} depends on unknown {parent.to_user_string()}"


def test_dbt_tests_are_asset_checks(definitions: dg.Definitions) -> None:
    checks = {k.asset_key.to_user_string() + ":" + k.name for k in definitions.resolve_asset_graph().asset_check_keys}
    assert any(c.startswith("staging/stg_crm__deals:primary_key_stg_crm__deals_deal_id") for c in checks)
    assert any(c.startswith("raw_crm/deals:source_primary_key_crm_deals_id") for c in checks)


def test_jobs_and_schedules(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("warehouse_job")
    assert job.tags.get("spm/writes") == "warehouse"
    schedule = definitions.resolve_schedule_def("daily_incremental")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.job_name == "warehouse_job"


def test_every_writer_is_in_the_warehouse_pool(definitions: dg.Definitions) -> None:
    for assets_def in definitions.resolve_asset_graph().assets_defs:
        if assets_def.is_executable:
            for node in assets_def.node_def.iterate_op_defs():
                assert node.pool == "warehouse", assets_def.node_def.name


def test_entry_point_module_loads(dbt_manifest: Path) -> None:
    """`dagster dev -m orchestration.definitions` finds a Definitions object named defs."""
    import importlib

    module = importlib.import_module("orchestration.definitions")
    assert isinstance(module.defs, dg.Definitions)
    assert module.defs.resolve_job_def("warehouse_job") is not None


def test_quality_suites_and_freshness_are_checks_that_gate_finance(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    suites = {k for k in graph.asset_check_keys if k.name.startswith("gx_")}
    assert {f"{k.asset_key.to_user_string()}:{k.name}" for k in suites} >= {
        "staging/stg_crm__deals:gx_crm_deals",
        "staging/stg_hris__employees:gx_hris_employees",
        "staging/stg_plans__quotas:gx_plans_quotas",
        "staging/stg_surveys__answers:gx_surveys_answers",
    }
    freshness = {k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name == "source_freshness"}
    assert {"raw_crm/deals", "raw_hris/employees", "raw_plans/quotas"} <= freshness
    blocking = {
        spec.key.name
        for checks_def in definitions.asset_checks or []
        for spec in checks_def.check_specs
        if spec.blocking
    }
    assert blocking == {"gx_crm_deals", "gx_hris_employees", "gx_plans_quotas", "gx_plans_assignments"}
    # the finance gate model depends on the guarded staging assets, so blocking checks skip the finance step
    gate = graph.get(dg.AssetKey(["intermediate", "int_plan_rule_violations"]))
    assert {dg.AssetKey(["staging", "stg_crm__deals"]), dg.AssetKey(["staging", "stg_plans__quotas"])} <= set(
        gate.parent_keys
    )
    for checks_def in definitions.asset_checks or []:
        assert checks_def.node_def.pool == "warehouse", checks_def.node_def.name


def test_checks_job_builds_nothing(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("checks_job")
    assert job.tags.get("spm/writes") == "warehouse"
    assert not job.asset_layer.selected_asset_keys
    assert {"gx_crm_deals", "source_freshness"} <= {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
