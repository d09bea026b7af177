"""The simulated world of one (scale, seed): built once, projected to any as-of date."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from synthetic.config import TERRITORIES, ScaleConfig
from synthetic.crm_writer import SQL_MACROS
from synthetic.org import FIRST_NAMES, LAST_NAMES, Organisation, build_organisation
from synthetic.sales import simulate_sales
from synthetic.surveys import simulate_surveys

COUNTRIES = {
    "NA-EAST": "United States",
    "NA-WEST": "United States",
    "NA-CENTRAL": "United States",
    "EMEA-UKI": "United Kingdom",
    "EMEA-DACH": "Germany",
    "EMEA-FRANCE": "France",
    "APAC-ANZ": "Australia",
    "APAC-JAPAN": "Japan",
}


@dataclass
class World:
    """Everything that happens in the company, with a DuckDB connection holding the CRM tables."""

    cfg: ScaleConfig
    seed: int
    org: Organisation
    sales: dict[str, dict[str, np.ndarray]]
    surveys: dict[str, list]
    connection: duckdb.DuckDBPyConnection
    rng: np.random.Generator


def build_world(cfg: ScaleConfig, seed: int) -> World:
    """Simulate the company for ``(cfg, seed)``; the same arguments give the same world."""
    org_rng, sales_rng, survey_rng, plan_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    org = build_organisation(cfg, org_rng)
    sales = simulate_sales(cfg, org, sales_rng)
    surveys = simulate_surveys(cfg, org, survey_rng)
    connection = duckdb.connect()
    connection.execute("set preserve_insertion_order = true")
    connection.execute(SQL_MACROS)
    companies = sales["companies"]
    codes = np.array([code for code, *_ in TERRITORIES])
    territory_code = codes[companies["territory"]]
    size = companies["size_class"]
    company_id = companies["company_id"]
    tables = {
        "companies": {
            "company_id": company_id,
            "territory_code": territory_code,
            "country": np.array([COUNTRIES[c] for c in codes])[companies["territory"]],
            "owner_id": companies["owner_id"],
            "created_ms": companies["created_ms"],
            "employees": np.array([40, 400, 4000])[size] + (company_id % 97) * np.array([1, 9, 90])[size],
            "revenue_cents": (np.array([5, 60, 900])[size] * 1_000_000 + (company_id % 89) * 100_000) * 100,
        },
        "contacts": sales["contacts"],
        "deals": sales["deals"],
        "history": sales["history"],
        "calls": sales["calls"],
        "emails": sales["emails"],
        "meetings": sales["meetings"],
    }
    for name, columns in tables.items():
        connection.register(f"{name}_arrow", pa.table({k: pa.array(v) for k, v in columns.items()}))
        connection.execute(f"create table {name} as select * from {name}_arrow")
        connection.unregister(f"{name}_arrow")
    return World(cfg=cfg, seed=seed, org=org, sales=sales, surveys=surveys, connection=connection, rng=plan_rng)


def name_lists() -> tuple[list[str], list[str]]:
    """First and last names used for contacts."""
    return list(FIRST_NAMES), list(LAST_NAMES)
