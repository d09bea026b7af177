"""The single entry point Dagster loads (``dagster dev -m orchestration.definitions``).

Importing this module builds the definitions, which needs the dbt manifest: ``dagster dev``
prepares it, ``spm`` prepares it before importing, tests use the ``dbt_manifest`` fixture and
import ``orchestration.build`` instead.
"""

from orchestration.build import build_definitions

defs = build_definitions()
