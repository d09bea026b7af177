"""Dagster: one asset graph from the landing files to the marts, its checks, jobs and schedules.

``definitions.py`` is the entry point; ``defs/`` holds one module per concern (ingestion, quality,
dbt, finance, schedules) and ``resources.py`` what they share. Nothing here imports the command
line (``spm``).
"""
