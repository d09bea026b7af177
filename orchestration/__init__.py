"""Dagster definitions: dlt loads and dbt models as one asset graph, with checks and schedules."""

from orchestration import dagster_dbt_lean

dagster_dbt_lean.install()  # before any module of the project imports dagster-dbt (see the module)
