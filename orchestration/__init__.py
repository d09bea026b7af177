"""Dagster definitions: dlt loads and dbt models as one asset graph, with checks and schedules."""
