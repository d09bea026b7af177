"""The marts as a chart reads them: figures at the agreed precision, no period after the as-of
date, and is_complete_period for the running one (docs/definitions.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt import BUILD_ARGS
from tests.dbt_cli import run_dbt
from tests.small_company import AS_OF, Company, built_small_company

#: The agreed types of the figures the marts compute (macros/precision.sql).
FRACTION, DURATION, SCORE, MONEY = "DECIMAL(18,4)", "DECIMAL(18,1)", "DECIMAL(18,1)", "DECIMAL(18,2)"
AGREED = {
    "mart_sales_kpis": {
        "win_rate": FRACTION,
        "value_win_rate": FRACTION,
        "lead_answered_1h_share": FRACTION,
        "lead_answered_24h_share": FRACTION,
        "quota_attainment": FRACTION,
        "reps_at_quota_share": FRACTION,
        "quota_carrying_fte": FRACTION,
        "pipeline_coverage": FRACTION,
        "sales_cycle_days_mean": DURATION,
        "sales_cycle_days_median": DURATION,
        "lead_response_minutes_median": DURATION,
        "talk_minutes": DURATION,
        "sales_velocity_per_day": MONEY,
        "bookings_amount": MONEY,
        "calls": "BIGINT",
        "emails_sent": "BIGINT",
        "meetings_held": "BIGINT",
        "is_complete_period": "BOOLEAN",
    },
    "mart_funnel": {"conversion_rate": FRACTION, "leakage_rate": FRACTION, "is_complete_period": "BOOLEAN"},
    "mart_leaderboard": {"quota_attainment": FRACTION, "activities": "BIGINT", "is_complete_period": "BOOLEAN"},
    "mart_forecast_accuracy": {
        "accuracy": FRACTION,
        "ape": FRACTION,
        "mape_to_date": FRACTION,
        "is_complete_period": "BOOLEAN",
    },
    "mart_engagement": {
        "participation_rate": FRACTION,
        "enps": SCORE,
        "enps_average_score": SCORE,
        "is_complete_period": "BOOLEAN",
    },
    "mart_engagement_questions": {"average_score": SCORE, "is_complete_period": "BOOLEAN"},
    "mart_engagement_performance": {
        "enps": SCORE,
        "participation_rate": FRACTION,
        "quota_attainment": FRACTION,
        "attrition_next_quarter": FRACTION,
        "is_complete_period": "BOOLEAN",
    },
}
#: Row-level measurements of incremental facts, documented as left in double.
MEASURED_IN_DOUBLE = {
    ("fct_activities", "duration_seconds"),
    ("fct_activities", "talk_minutes"),
    ("fct_deal_stage_transitions", "days_in_stage"),
}
#: Each period mart and the column its period starts on.
PERIOD_START = {
    "mart_sales_kpis": "period_start_date",
    "mart_leaderboard": "period_start_date",
    "mart_forecast_accuracy": "period_start_date",
    "mart_funnel": "cohort_month",
    "mart_engagement": "sent_date",
    "mart_engagement_questions": "sent_date",
    "mart_engagement_performance": "sent_date",
}


@pytest.fixture(scope="module")
def company(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Company:
    return built_small_company(tmp_path_factory)


def _column_types(warehouse: Path) -> dict[tuple[str, str], str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'marts'"
        ).fetchall()
    return {(table, column): data_type for table, column, data_type in rows}


def test_every_figure_has_the_agreed_precision(company: Company) -> None:
    types = _column_types(company.warehouse)
    wrong = {
        f"{table}.{column}": (types.get((table, column)), expected)
        for table, columns in AGREED.items()
        for column, expected in columns.items()
        if types.get((table, column)) != expected
    }
    assert not wrong, wrong
    floating = {key for key, data_type in types.items() if data_type in ("DOUBLE", "FLOAT", "REAL", "HUGEINT")}
    assert floating == MEASURED_IN_DOUBLE

    with duckdb.connect(str(company.warehouse), read_only=True) as con:
        win_rate, won, lost = con.execute(
            "select win_rate, won_deals, lost_deals from marts.mart_sales_kpis "
            "where group_type = 'company' and period_grain = 'quarter' and won_deals > 0 "
            "order by period_start_date limit 1"
        ).fetchone()
    assert isinstance(win_rate, Decimal) and win_rate.as_tuple().exponent == -4
    assert abs(win_rate - Decimal(won) / Decimal(won + lost)) <= Decimal("0.00005")


def test_no_period_after_the_as_of_date_and_the_last_one_is_complete(company: Company) -> None:
    with duckdb.connect(str(company.warehouse), read_only=True) as con:
        as_of = con.execute("select cast(max(updated_at) as date) from staging.stg_crm__deals").fetchone()[0]
        assert as_of == AS_OF  # the generated company is as of its last day: 2025-12-31
        for table, start in PERIOD_START.items():
            latest, incomplete = con.execute(
                f"select max({start}), count(case when not is_complete_period then 1 end) from marts.{table}"
            ).fetchone()
            assert latest <= as_of, table
            # December and the fourth quarter end on the as-of date itself: complete
            assert incomplete == 0, table
        months = [
            row[0]
            for row in con.execute(
                "select period_start_date from marts.mart_sales_kpis "
                "where group_type = 'company' and period_grain = 'month' order by 1 desc limit 2"
            ).fetchall()
        ]
    assert months == [dt.date(2025, 12, 1), dt.date(2025, 11, 1)]


def test_an_earlier_as_of_date_makes_the_running_period_incomplete(company: Company, tmp_path: Path) -> None:
    """With var as_of_date 2025-11-15: no December row, November and Q4 running, and the Q4 row
    still holds the open deals expected to close in December (the current quarter's coverage)."""
    copy = company.copy_to(tmp_path)
    done = run_dbt(
        [*BUILD_ARGS, "--select", "mart_sales_kpis", "--vars", "{as_of_date: '2025-11-15'}"],
        copy.warehouse,
        tmp_path / "target",
    )
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(copy.warehouse), read_only=True) as con:
        rows = con.execute(
            "select period_grain, period_start_date, is_complete_period from marts.mart_sales_kpis "
            "where group_type = 'company' and period_start_date >= date '2025-09-01' order by 1, 2"
        ).fetchall()
        q4_open, open_in_q4 = con.execute(
            """select
                   (select open_pipeline_amount from marts.mart_sales_kpis where group_type = 'company'
                    and period_grain = 'quarter' and period_start_date = date '2025-10-01'),
                   (select sum(amount_reporting) from marts.fct_deals
                    where is_open and not is_archived and close_date between date '2025-10-01' and date '2025-12-31')"""
        ).fetchone()
        december_open = con.execute(
            "select count(*) from marts.fct_deals "
            "where is_open and not is_archived and close_date between date '2025-12-01' and date '2025-12-31'"
        ).fetchone()[0]
    assert rows == [
        ("month", dt.date(2025, 9, 1), True),
        ("month", dt.date(2025, 10, 1), True),
        ("month", dt.date(2025, 11, 1), False),
        ("quarter", dt.date(2025, 10, 1), False),
    ]
    assert december_open > 0  # so the Q4 row must hold deals of a month that has no row
    assert q4_open == open_in_q4
