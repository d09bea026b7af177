"""The Dagster definitions load and keep their public shape (asset keys, jobs, schedules)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ingestion.landing import LAYOUT


@pytest.fixture(scope="module")
def definitions(dbt_manifest: Path) -> dg.Definitions:
    from orchestration.definitions import build_definitions

    return build_definitions(Path("/nonexistent/w.duckdb"), Path("/nonexistent/landing"))


def test_asset_layers(definitions: dg.Definitions) -> None:
    keys = {k.to_user_string() for k in definitions.resolve_asset_graph().get_all_asset_keys()}
    landing = {k for k in keys if k.startswith("landing/")}
    raw = {k for k in keys if k.startswith("raw_")}
    staging = {k for k in keys if k.startswith("staging/")}
    assert landing == {f"landing/{s}/{e}" for s, entities in LAYOUT.items() for e in entities}
    assert {"raw_crm/deals", "raw_crm/deal_stage_history", "raw_hris/job_info", "raw_plans/plan_tiers"} <= raw
    # 25 raw tables (raw_plans.snapshot_files and manual_adjustments among them) and the rejects tables
    # of the 9 entities merged on a key
    assert len(raw) == 25 + 9 and {"raw_crm/deals_rejected", "raw_surveys/answers_rejected"} <= raw
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


def test_dbt_tests_are_asset_checks_with_descriptions(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    checks = {k.asset_key.to_user_string() + ":" + k.name for k in graph.asset_check_keys}
    assert any(c.startswith("staging/stg_crm__deals:primary_key_stg_crm__deals_deal_id") for c in checks)
    assert any(c.startswith("raw_crm/deals:source_primary_key_crm_deals_id") for c in checks)
    specs = [spec for assets_def in graph.assets_defs for spec in assets_def.check_specs]
    assert len(specs) == len(graph.asset_check_keys) > 150
    undescribed = [spec.key.to_user_string() for spec in specs if not (spec.description or "").strip()]
    assert undescribed == []
    by_name = {spec.key.name: spec.description for spec in specs}
    assert by_name["primary_key_stg_crm__deals_deal_id"] == (
        "`deal_id` identifies each row of stg_crm__deals: never null, never repeated."
    )
    assert "finance marts keep their last good content" in by_name["blocking_suites_passed"]
    assert "expectations/crm_deals.json" in by_name["gx_crm_deals"]


def test_jobs_and_schedules(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("warehouse_job")
    assert job.tags.get("spm/writes") == "warehouse"
    assert [node.name for node in job.nodes if node.name.startswith("dbt")] == ["dbt_build"]
    assert "ledger" not in {node.name for node in job.nodes}
    assert "payout_changes" in {node.name for node in job.nodes}  # after the monthly mart
    schedule = definitions.resolve_schedule_def("daily_incremental")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.job_name == "warehouse_job"
    close = definitions.resolve_job_def("close_period_job")
    # a close records the payouts too: the closed period leaves the run-to-run comparison
    assert {node.name for node in close.nodes} == {
        "ledger",
        "dbt_build",
        "payout_changes",
        "payout_change_check",
    }
    assert definitions.resolve_schedule_def("monthly_close").job_name == "close_period_job"
    assert {node.name for node in definitions.resolve_job_def("publish_job").nodes} == {"publish"}


def test_the_publish_follows_every_successful_run(definitions: dg.Definitions) -> None:
    from orchestration.defs.schedules import SPM_COMMAND_TAG
    from spm.job_runner import COMMAND_TAG

    graph = definitions.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["serving", "database"])).parent_keys
    marts = {key for key in graph.get_all_asset_keys() if key.path[0] in ("marts", "rejects")}
    assert len(marts) > 30 and marts <= parents  # the lineage in the UI
    assert {dg.AssetKey(["quality", "suite_validations"]), dg.AssetKey(["quality", "suites"])} <= parents
    # a run of its own: Dagster would skip a step whose upstream models a held-back run left unbuilt
    assert "publish" not in {node.name for node in definitions.resolve_job_def("warehouse_job").nodes}
    sensor = definitions.resolve_sensor_def("publish_after_success")
    assert sensor.job_name == "publish_job" and sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert SPM_COMMAND_TAG == COMMAND_TAG  # runs `spm` started are published by `spm`


@pytest.mark.parametrize(
    ("sensor_name", "job_name", "requested_config"),
    [
        ("publish_after_success", "warehouse_job", {"ops": {"publish": {"config": {"validated_by_run": "r1"}}}}),
        ("monthly_pack_after_publish", "publish_job", {}),  # the pack of what that publish wrote
    ],
)
def test_the_sensors_follow_runs_the_ui_launched(sensor_name: str, job_name: str, requested_config: dict) -> None:
    from orchestration.defs import schedules

    sensor = getattr(schedules, sensor_name)
    for tags, requested in (({}, True), ({"spm/command": "run"}, False)):
        run = dg.DagsterRun(job_name=job_name, run_id="r1", tags=tags, status=dg.DagsterRunStatus.SUCCESS)
        with dg.instance_for_test() as instance:
            context = dg.build_run_status_sensor_context(
                sensor_name=sensor_name,
                dagster_instance=instance,
                dagster_run=run,
                dagster_event=dg.DagsterEvent("PIPELINE_SUCCESS", job_name),
            )
            outcome = sensor(context)
        if requested:
            assert isinstance(outcome, dg.RunRequest) and outcome.run_config == requested_config
        else:
            assert isinstance(outcome, dg.SkipReason)


def test_every_writer_is_in_the_warehouse_pool(definitions: dg.Definitions) -> None:
    #: reads the serving file only, never the warehouse: it must not wait for the writers
    readers = {"monthly_pack"}
    for assets_def in [*definitions.resolve_asset_graph().assets_defs, *(definitions.asset_checks or [])]:
        if assets_def.is_executable:
            expected = None if assets_def.op.name in readers else "warehouse"
            assert assets_def.op.pool == expected, assets_def.op.name


def test_quality_suites_are_checks_and_the_finance_gate_reads_them(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    validations = dg.AssetKey(["quality", "suite_validations"])
    suites = {k for k in graph.asset_check_keys if k.name.startswith("gx_")}
    assert {k.asset_key for k in suites} == {validations}
    assert {k.name for k in suites} >= {"gx_crm_deals", "gx_hris_employees", "gx_plans_quotas", "gx_surveys_answers"}
    raw = {dg.AssetKey(["raw_crm", "deals"]), dg.AssetKey(["raw_plans", "quotas"])}
    assert raw <= graph.get(validations).parent_keys
    freshness = {k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name == "source_freshness"}
    assert {"raw_crm/deals", "raw_hris/employees", "raw_plans/quotas"} <= freshness
    # no Dagster check blocks: a blocking failure would skip the whole dbt step, not only finance
    specs = [spec for assets_def in graph.assets_defs for spec in assets_def.check_specs]
    assert not [spec.key for spec in specs if spec.blocking]
    # the finance gate reads the suites' table, and every commission model descends from it
    gate = dg.AssetKey(["intermediate", "int_finance_suites_checked"])
    assert validations in graph.get(gate).parent_keys
    descendants, pending = set(), [gate]
    while pending:
        for child in graph.get(pending.pop()).child_keys:
            if child not in descendants:
                descendants.add(child)
                pending.append(child)
    finance = {key for key in graph.get_all_asset_keys() if "finance" in (graph.get(key).tags or {})}
    assert len(finance) > 15
    assert finance - descendants == {gate, dg.AssetKey(["intermediate", "int_plan_rule_violations"])}


def test_checks_job_builds_nothing(definitions: dg.Definitions) -> None:
    from orchestration.defs.schedules import CHECKS_SELECTION

    assert definitions.resolve_job_def("checks_job").tags.get("spm/writes") == "warehouse"
    graph = definitions.resolve_asset_graph()
    assert CHECKS_SELECTION.resolve(graph) == set()
    assert {"gx_crm_deals", "source_freshness"} <= {key.name for key in CHECKS_SELECTION.resolve_checks(graph)}
