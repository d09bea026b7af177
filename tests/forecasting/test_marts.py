"""The forecast marts on the session-built small company (read only)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.small_company import Company, built_small_company


@pytest.fixture(scope="module")
def company(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Company:
    return built_small_company(tmp_path_factory)


@pytest.fixture(scope="module")
def warehouse(company: Company):
    with duckdb.connect(str(company.warehouse), read_only=True) as connection:
        yield connection


def test_the_current_forecast_covers_every_level_with_ordered_percentiles(warehouse):
    rows = warehouse.sql(
        """select group_type, count(*), min(forecast_date), max(forecast_date),
                  count(case when not (p10_amount <= p50_amount and p50_amount <= p90_amount) then 1 end),
                  min(currency_code), max(simulations)
           from marts.mart_bookings_forecast where is_current_forecast group by group_type order by group_type"""
    ).fetchall()
    assert [row[0] for row in rows] == ["company", "rep", "team", "territory"]
    for _, count, first, last, disordered, currency, simulations in rows:
        assert count > 0 and first == last and disordered == 0
        assert currency == "USD" and simulations == 10_000
    # as of 2025-12-31: taken on 2026-01-01, three months and the first quarter
    periods = warehouse.sql(
        """select period_grain, period_start_date from marts.mart_bookings_forecast
           where is_current_forecast and group_type = 'company' order by period_grain, period_start_date"""
    ).fetchall()
    assert [(grain, str(start)) for grain, start in periods] == [
        ("month", "2026-01-01"),
        ("month", "2026-02-01"),
        ("month", "2026-03-01"),
        ("quarter", "2026-01-01"),
    ]


def test_the_company_mean_is_the_sum_of_the_teams_and_of_the_reps(warehouse):
    mismatches = warehouse.sql(
        """with sums as (
               select forecast_date, period_grain, period_start_date, group_type, sum(mean_amount) as total
               from marts.mart_bookings_forecast group by all)
           select company.forecast_date, company.period_start_date, sums.group_type, company.total, sums.total
           from sums as company
           inner join sums using (forecast_date, period_grain, period_start_date)
           where company.group_type = 'company' and sums.group_type <> 'company'
               and abs(company.total - sums.total) > 0.05 * (select count(*) from marts.mart_bookings_forecast)"""
    ).fetchall()
    assert mismatches == []


def test_quota_probabilities_are_shares_and_quarters_hold_their_months(warehouse):
    bad = warehouse.sql(
        """select count(*) from marts.mart_bookings_forecast
           where (quota_amount is null) <> (probability_reaching_quota is null)
              or probability_reaching_quota not between 0 and 1"""
    ).fetchall()[0][0]
    assert bad == 0
    # a quarter taken at its start is its three months: its mean is theirs
    gaps = warehouse.sql(
        """select quarter.forecast_date, quarter.mean_amount, sum(month.mean_amount)
           from marts.mart_bookings_forecast as quarter
           inner join marts.mart_bookings_forecast as month
               on month.forecast_date = quarter.forecast_date and month.period_grain = 'month'
               and month.group_type = 'company' and month.period_start_date >= quarter.period_start_date
               and month.period_start_date <= quarter.period_end_date
           where quarter.period_grain = 'quarter' and quarter.group_type = 'company'
               and quarter.forecast_date = quarter.period_start_date
           group by all having abs(quarter.mean_amount - sum(month.mean_amount)) > 0.05"""
    ).fetchall()
    assert gaps == []


def test_the_calibration_scores_the_backtest_at_every_level(warehouse):
    rows = warehouse.sql(
        """select group_type, forecast_dates, outcomes, share_inside_p10_p90,
                  pit_decile_01_share + pit_decile_02_share + pit_decile_03_share + pit_decile_04_share
                  + pit_decile_05_share + pit_decile_06_share + pit_decile_07_share + pit_decile_08_share
                  + pit_decile_09_share + pit_decile_10_share,
                  compared_outcomes, stage_weighted_mean_absolute_error
           from marts.mart_forecast_calibration
           where period_grain = 'month' and months_ahead = 0 order by group_type"""
    ).fetchall()
    assert [row[0] for row in rows] == ["company", "rep", "team", "territory"]
    for group_type, dates, outcomes, inside, pit_total, compared, stage_weighted_error in rows:
        assert dates == 12 and outcomes >= dates
        assert 0 <= inside <= 1 and abs(pit_total - 1) < 0.001
        if group_type in ("team", "company"):
            assert compared == outcomes and stage_weighted_error is not None
        else:
            assert compared == 0 and stage_weighted_error is None
