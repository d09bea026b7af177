"""The landing folder's entities as external assets: where the lineage starts."""

from __future__ import annotations

import dagster as dg

from ingestion.landing import LAYOUT


def landing_key(system: str, entity: str) -> dg.AssetKey:
    """Asset key of one landing entity folder, e.g. ``landing/crm/deals``."""
    return dg.AssetKey(["landing", system, entity])


def landing_specs() -> list[dg.AssetSpec]:
    """One external asset per entity folder of the landing layout."""
    return [
        dg.AssetSpec(
            key=landing_key(system, entity),
            description=f"Landing files `{system}/{entity}/*.{extension}` (docs/landing_format.md), "
            "or the same records from the live API.",
            group_name="landing",
            kinds={"file"},
        )
        for system, entities in LAYOUT.items()
        for entity, extension in entities.items()
    ]
