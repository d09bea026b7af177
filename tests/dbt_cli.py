"""Running the dbt CLI in tests on a given warehouse, with its own target folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from core import settings


def run_dbt(arguments: list[str], warehouse: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """``dbt <arguments>`` on this project against ``warehouse``; output captured, never raised."""
    return subprocess.run(
        [
            settings.dbt_executable(),
            *arguments,
            "--project-dir",
            str(settings.DBT_PROJECT_DIR),
            "--profiles-dir",
            str(settings.DBT_PROJECT_DIR),
            "--target-path",
            str(target),
        ],
        env={**os.environ, "SPM_WAREHOUSE": str(warehouse)},
        capture_output=True,
        text=True,
        check=False,
    )
