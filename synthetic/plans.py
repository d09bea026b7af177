"""Sales-plan inputs finance maintains: quotas, commission plans, assignments, splits, FX rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from synthetic.config import SIMULATION_END, ScaleConfig
from synthetic.org import Organisation, month_starts
from synthetic.sales import OWNER_ID_BASE

MONTHLY_QUOTA = {"Account Executive": Decimal("45000.00"), "Senior Account Executive": Decimal("65000.00")}


def quotas(org: Organisation, cfg: ScaleConfig, as_of: dt.date) -> list[dict]:
    """Full monthly quota for every AE employed in the month (ramp is the plan's business)."""
    rows = []
    for person in sorted(org.people, key=lambda p: p.employee_id):
        if person.role != "ae" or person.hire > as_of:
            continue
        last = person.term if person.term is not None and person.term <= as_of else SIMULATION_END
        for month in month_starts(max(person.hire, cfg.start), last):
            job = person.job_at(max(month, person.hire))
            rows.append(
                {
                    "employee_id": person.employee_id,
                    "period_month": f"{month:%Y-%m}",
                    "quota_amount": str(MONTHLY_QUOTA.get(job.title, MONTHLY_QUOTA["Account Executive"])),
                    "currency": "USD",
                }
            )
    return rows


def commission_plans(cfg: ScaleConfig) -> dict:
    """Plan versions per calendar year: AE (marginal), Senior AE (retroactive, capped), managers."""
    plans = []
    for version, year in enumerate(range(cfg.start.year, SIMULATION_END.year + 1), start=1):
        window = {
            "version": version,
            "effective_from": dt.date(year, 1, 1),
            "effective_to": dt.date(year, 12, 31),
            "currency": "USD",
            "period": "month",
            "clawback_window_days": 90,
        }
        plans.append(
            {
                "plan_id": "AE",
                "name": f"Account Executive {year}",
                **window,
                "ramp_schedule": [0.25, 0.5, 0.75],
                "components": [
                    {
                        "component_id": "base_commission",
                        "type": "rate_table",
                        "tier_method": "marginal",
                        "credit_type": "revenue",
                        "gate_min_attainment": 0.0,
                        "cap_amount": None,
                        "tiers": [
                            {"from_attainment": 0.0, "to_attainment": 1.0, "rate": 0.08},
                            {"from_attainment": 1.0, "to_attainment": 1.2, "rate": 0.12},
                            {"from_attainment": 1.2, "to_attainment": None, "rate": 0.16},
                        ],
                    },
                    {
                        "component_id": "new_logo_multiplier",
                        "type": "multiplier",
                        "applies_to": {"dealtype": "newbusiness"},
                        "factor": 1.2,
                    },
                ],
            }
        )
        plans.append(
            {
                "plan_id": "SAE",
                "name": f"Senior Account Executive {year}",
                **window,
                "components": [
                    {
                        "component_id": "base_commission",
                        "type": "rate_table",
                        "tier_method": "retroactive",
                        "credit_type": "revenue",
                        "gate_min_attainment": 0.5,
                        "cap_amount": 25000.0,
                        "tiers": [
                            {"from_attainment": 0.0, "to_attainment": 1.0, "rate": 0.09},
                            {"from_attainment": 1.0, "to_attainment": None, "rate": 0.13},
                        ],
                    },
                    {
                        "component_id": "multi_year_spif",
                        "type": "spif",
                        "applies_to": {"contract_term_months_min": 24},
                        "basis": "per_deal",
                        "amount": 500.0,
                        "window_from": dt.date(year, 1, 1),
                        "window_to": dt.date(year, 12, 31),
                    },
                ],
            }
        )
        plans.append(
            {
                "plan_id": "MGR",
                "name": f"Sales Manager {year}",
                **window,
                "components": [
                    {
                        "component_id": "team_overlay",
                        "type": "rate_table",
                        "tier_method": "marginal",
                        "credit_type": "overlay",
                        "gate_min_attainment": 0.0,
                        "cap_amount": None,
                        "tiers": [{"from_attainment": 0.0, "to_attainment": None, "rate": 0.015}],
                    },
                    {"component_id": "manager_draw", "type": "draw", "draw_type": "recoverable", "amount": 1000.0},
                ],
            }
        )
    return {"reporting_currency": "USD", "plans": plans}


def plan_assignments(org: Organisation, as_of: dt.date) -> list[dict]:
    """One plan per AE (AE, then SAE after promotion) and per manager, with effective dates."""
    promoted = dict(org.promotions)
    rows = []
    for person in sorted(org.people, key=lambda p: p.employee_id):
        if person.role not in {"ae", "manager"} or person.hire > as_of:
            continue
        end = person.term if person.term is not None and person.term <= as_of else None
        segments: list[tuple[str, dt.date, dt.date | None]] = []
        if person.role == "manager":
            segments.append(("MGR", person.hire, end))
        else:
            first_title = person.jobs[0].title
            promotion = promoted.get(person.employee_id)
            if first_title == "Senior Account Executive":
                segments.append(("SAE", person.hire, end))
            elif promotion is not None and promotion <= as_of:
                segments.append(("AE", person.hire, promotion - dt.timedelta(days=1)))
                segments.append(("SAE", promotion, end))
            else:
                segments.append(("AE", person.hire, end))
        for plan_id, start, stop in segments:
            if stop is not None and stop < start:
                continue  # promoted on the hire day: only the later plan applies
            rows.append(
                {
                    "assignment_id": f"PA-{person.employee_id}-{plan_id}",
                    "employee_id": person.employee_id,
                    "plan_id": plan_id,
                    "effective_from": start.isoformat(),
                    "effective_to": stop.isoformat() if stop else "",
                }
            )
    return rows


def credit_splits(
    deal_ids: np.ndarray,
    owner_ids: np.ndarray,
    rep_employee_ids: np.ndarray,
    org: Organisation,
    created_days: np.ndarray,
) -> list[dict]:
    """Revenue splits on ~4% of deals (owner and a colleague) and manager overlay credit on ~5%."""
    rows = []
    owner_employee = owner_ids - OWNER_ID_BASE
    split = np.flatnonzero((deal_ids * 2654435761) % 100 < 4)
    people = org.by_id()
    n_reps = len(rep_employee_ids)
    for i in split:
        # a colleague employed when the deal was created (so they exist in the HRIS export)
        day = dt.date.fromordinal(int(created_days[i]))
        colleague = None
        for step in range(n_reps):
            candidate = int(rep_employee_ids[(deal_ids[i] * 7 + step) % n_reps])
            person = people.get(candidate)
            if (
                candidate != owner_employee[i]
                and person is not None
                and person.hire <= day
                and (person.term is None or person.term >= day)
            ):
                colleague = candidate
                break
        if colleague is None:
            continue
        share = 60 if deal_ids[i] % 2 else 70
        rows.append(
            {
                "deal_id": int(deal_ids[i]),
                "employee_id": int(owner_employee[i]),
                "split_type": "revenue",
                "split_pct": str(share),
            }
        )
        rows.append(
            {
                "deal_id": int(deal_ids[i]),
                "employee_id": colleague,
                "split_type": "revenue",
                "split_pct": str(100 - share),
            }
        )
    overlay = np.flatnonzero((deal_ids * 40503) % 100 < 5)
    for i in overlay:
        person = people.get(int(owner_employee[i]))
        job = person.job_at(dt.date.fromordinal(int(created_days[i]))) if person else None
        if job and job.manager_id:
            rows.append(
                {
                    "deal_id": int(deal_ids[i]),
                    "employee_id": job.manager_id,
                    "split_type": "overlay",
                    "split_pct": "100",
                }
            )
    rows.sort(key=lambda r: (r["deal_id"], r["split_type"], r["employee_id"]))
    return rows


def fx_rates(cfg: ScaleConfig, rng: np.random.Generator) -> list[dict]:
    """Monthly rates to USD: EUR and GBP drifting slowly."""
    months = month_starts(cfg.start - dt.timedelta(days=150), SIMULATION_END)
    eur = 1.08 * np.exp(np.cumsum(rng.normal(0, 0.012, len(months))))
    gbp = 1.27 * np.exp(np.cumsum(rng.normal(0, 0.012, len(months))))
    rows = []
    for i, month in enumerate(months):
        for currency, rate in (("USD", 1.0), ("EUR", eur[i]), ("GBP", gbp[i])):
            rows.append({"period_month": f"{month:%Y-%m}", "currency": currency, "rate_to_reporting": f"{rate:.6f}"})
    return rows
