"""Documented plausibility bounds of generated companies' commissions (README, 'For finance')."""

from __future__ import annotations

from pathlib import Path

import duckdb


def assert_plausible_commissions(warehouse: Path) -> None:
    """Payout rates per plan against what the generated plans can pay.

    AE: marginal 8 / 12 / 16 % with a 1.2 new-logo multiplier, so between 8 % and 19.2 % of credit;
    Senior AE: retroactive 9 / 13 % with a 50 % gate and a cap, so at most 13 %; managers: a flat
    1.5 % overlay (minus clawbacks, plus draws); the company between 8 % and 20 %.
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        by_plan = dict(
            (plan, (float(rate), int(reps)))
            for plan, rate, reps in con.execute(
                """
                select plan_id,
                    sum(net_payout_amount - draw_paid_amount + draw_recovered_amount - clawback_amount)
                        / nullif(sum(case when plan_id = 'MGR' then overlay_credit_amount
                                          else credited_bookings_amount end), 0),
                    count(distinct employee_id)
                from marts.mart_commissions_monthly
                where plan_id is not null
                group by plan_id
                """
            ).fetchall()
        )
        company = float(
            con.execute(
                "select sum(net_payout_amount) / sum(credited_bookings_amount) from marts.mart_commissions_monthly"
            ).fetchone()[0]
        )
    assert set(by_plan) == {"AE", "SAE", "MGR"}, by_plan
    assert 0.08 <= by_plan["AE"][0] <= 0.192, by_plan
    assert 0.0 < by_plan["SAE"][0] <= 0.13, by_plan
    assert 0.0145 <= by_plan["MGR"][0] <= 0.0155, by_plan
    assert 0.08 <= company <= 0.20, company
