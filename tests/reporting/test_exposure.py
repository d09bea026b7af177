"""The dbt exposure of the monthly pack lists exactly the marts the pack reads, so dbt docs and
Dagster show the pack downstream of every table it shows."""

from __future__ import annotations

import json
from pathlib import Path

from reporting.queries import MARTS_READ


def test_monthly_pack_exposure_depends_on_the_marts_the_pack_reads(dbt_manifest: Path) -> None:
    manifest = json.loads(dbt_manifest.read_text())
    exposure = manifest["exposures"]["exposure.sales_performance.monthly_pack"]
    models = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"] if node.startswith("model.")}
    assert models == set(MARTS_READ)
    metrics = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"] if node.startswith("metric.")}
    # the headline figures the pack shows, as the semantic layer defines them
    assert metrics == {"bookings", "win_rate", "commission_share_of_bookings"}
