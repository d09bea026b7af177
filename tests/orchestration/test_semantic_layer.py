"""The semantic layer (dbt_project/models/semantic/) on the small company: every metric at company x
month, queried with MetricFlow's command line, equals the marts; the definitions validate.

Compared at the marts' precision (rates to 4 decimals, durations and eNPS to 1, amounts to the
cent), so that the comparison holds whether the marts store rounded decimals or doubles; only the
months the mart has are compared (the marts keep no month after the as-of date).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration import semantic_layer
from tests.small_company import Company, built_small_company

#: metric -> (expression over mart_sales_kpis' company month rows, decimals compared)
SALES_KPIS: Mapping[str, tuple[str, int]] = {
    "bookings": ("bookings_amount", 2),
    "won_deals": ("won_deals", 0),
    "lost_deals": ("lost_deals", 0),
    "closed_deals": ("won_deals + lost_deals", 0),
    "win_rate": ("win_rate", 4),
    "value_win_rate": ("value_win_rate", 4),
    "average_deal_size": ("average_deal_size", 2),
    "sales_cycle_days_mean": ("sales_cycle_days_mean", 1),
    "sales_cycle_days_median": ("sales_cycle_days_median", 1),
    "cancelled_bookings": ("cancelled_amount", 2),
    "open_pipeline": ("open_pipeline_amount", 2),
    "weighted_pipeline": ("weighted_pipeline_amount", 2),
    "quota": ("quota_amount", 2),
    "quota_attainment": ("quota_attainment", 4),
    "quota_carrying_reps": ("quota_carrying_reps", 0),
    "pipeline_coverage": ("pipeline_coverage", 4),
    "reps_at_quota": ("reps_at_quota", 0),
    "reps_at_quota_share": ("reps_at_quota_share", 4),
    "activities": ("calls + emails_sent + meetings_held", 0),
    "calls": ("calls", 0),
    "emails_sent": ("emails_sent", 0),
    "meetings_held": ("meetings_held", 0),
    "talk_minutes": ("talk_minutes", 1),
    "activities_per_rep": (
        "(calls + emails_sent + meetings_held) / cast(nullif(quota_carrying_reps, 0) as double)",
        4,
    ),
    "leads_created": ("leads_created", 0),
    "leads_unanswered": ("leads_unanswered", 0),
    "leads_answered_within_1h": ("leads_answered_within_1h", 0),
    "leads_answered_within_24h": ("leads_answered_within_24h", 0),
    "lead_answered_1h_share": ("lead_answered_1h_share", 4),
    "lead_answered_24h_share": ("lead_answered_24h_share", 4),
    "lead_response_minutes_median": ("lead_response_minutes_median", 1),
}
#: metric -> (expression, decimals) over the other marts, one row per month (`month` column)
OTHER_MARTS: Mapping[str, tuple[str, int]] = {
    "forecast": ("forecast.forecast_amount", 2),
    "forecast_actual": ("forecast.actual_amount", 2),
    "forecast_accuracy": ("forecast.accuracy", 4),
    "commission_expense": ("expense.commission_expense_amount", 2),
    "commission_payout": ("payouts.net_payout_amount", 2),
    "commission_share_of_bookings": ("expense.commission_share_of_bookings", 4),
    "enps": ("engagement.enps", 1),
    "participation_rate": ("engagement.participation_rate", 4),
}
#: metrics that add up over the month's rows
ADDITIVE = frozenset(
    {
        *(metric for metric, (_, decimals) in SALES_KPIS.items() if decimals == 0),
        *("bookings", "cancelled_bookings", "open_pipeline", "weighted_pipeline", "talk_minutes"),
        *("commission_expense", "commission_payout"),
    }
)
OTHER_MARTS_SQL = """
with forecast as (
    select period_start_date as month, forecast_amount, actual_amount, accuracy from marts.mart_forecast_accuracy
    where group_type = 'company' and period_grain = 'month'
),
expense as (
    select period_start_date as month, sum(commission_expense_amount) as commission_expense_amount,
        max(commission_share_of_bookings) as commission_share_of_bookings
    from marts.mart_commission_expense_rollforward group by 1
),
payouts as (
    select period_start_date as month, sum(net_payout_amount) as net_payout_amount
    from marts.mart_commissions_monthly group by 1
),
engagement as (
    select cast(date_trunc('month', sent_date) as date) as month, enps, participation_rate
    from marts.mart_engagement where group_type = 'company'
),
months as (
    select month from forecast union select month from expense union select month from payouts
    union select month from engagement
)
select months.month, {columns}
from months
left join forecast using (month)
left join expense using (month)
left join payouts using (month)
left join engagement using (month)
"""


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Company:
    """A private copy of the built small company: ``mf`` opens the warehouse for writing (dbt's
    DuckDB connection), and the session's company is shared. Same file name, so the semantic
    manifest prepared for the shared one names the copy's tables too."""
    return built_small_company(tmp_path_factory).copy_to(tmp_path_factory.mktemp("semantic_layer"))


@pytest.fixture(scope="module")
def company_months(company: Company) -> dict[tuple[object, ...], semantic_layer.Row]:
    """Every metric compared, by month, in one MetricFlow query."""
    rows = semantic_layer.query(company.warehouse, metrics=[*SALES_KPIS, *OTHER_MARTS], group_by=["metric_time__month"])
    return {(row["metric_time__month"],): row for row in rows}


def _mart_rows(warehouse: Path, sql: str) -> list[dict[str, object]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _differences(
    metrics: Mapping[str, tuple[str, int]],
    marts: list[dict[str, object]],
    found: Mapping[tuple[object, ...], semantic_layer.Row],
    key: tuple[str, ...],
) -> dict[tuple[object, ...], list[str]]:
    """Per mart row (by its ``key`` columns), the metrics whose MetricFlow value in ``found`` (by
    the same key) differs from the mart's at its precision. A metric that adds up is 0 where one
    side has no row (the mart fills in 0; MetricFlow has no row where no fact falls)."""
    wrong: dict[tuple[object, ...], list[str]] = {}
    for mart in marts:
        at = tuple(mart[column] for column in key)
        for metric, (_, decimals) in metrics.items():
            expected, actual = mart[metric], found.get(at, {}).get(metric)
            if metric in ADDITIVE:
                expected, actual = expected or 0, actual or 0
            if expected is None and actual is None:
                continue
            step = Decimal(1).scaleb(-decimals) / 2
            if expected is None or actual is None or abs(Decimal(str(expected)) - Decimal(str(actual))) > step:
                wrong.setdefault(at, []).append(f"{metric}: mart {expected}, MetricFlow {actual}")
    return wrong


def _columns(metrics: Mapping[str, tuple[str, int]]) -> str:
    return ", ".join(f"{expression} as {metric}" for metric, (expression, _) in metrics.items())


def test_sales_metrics_equal_mart_sales_kpis_at_company_and_month(
    company: Company, company_months: dict[tuple[object, ...], semantic_layer.Row]
) -> None:
    marts = _mart_rows(
        company.warehouse,
        f"select period_start_date as month, {_columns(SALES_KPIS)} from marts.mart_sales_kpis "
        "where group_type = 'company' and period_grain = 'month' order by 1",
    )
    assert len(marts) >= 12
    assert _differences(SALES_KPIS, marts, company_months, ("month",)) == {}
    # the months that had business are compared with figures, not with nulls on both sides
    assert sum(1 for row in marts if row["win_rate"] is not None and row["quota_attainment"] is not None) >= 10


def test_forecast_commission_and_engagement_metrics_equal_their_marts(
    company: Company, company_months: dict[tuple[object, ...], semantic_layer.Row]
) -> None:
    marts = _mart_rows(company.warehouse, OTHER_MARTS_SQL.format(columns=_columns(OTHER_MARTS)))
    assert _differences(OTHER_MARTS, marts, company_months, ("month",)) == {}
    for metric in ("forecast_accuracy", "commission_expense", "commission_share_of_bookings", "enps"):
        assert sum(1 for row in marts if row[metric] is not None) >= 6, metric


def test_bookings_and_win_rate_by_team_equal_the_team_rows(company: Company) -> None:
    """The README's example query: the rep entity puts a deal in the team of the rep version valid
    on its close date, as the mart does; deals of unlinked owners have no team ('unassigned')."""
    rows = semantic_layer.query(
        company.warehouse, metrics=["bookings", "win_rate"], group_by=["metric_time__month", "rep__team"]
    )
    found = {(row["metric_time__month"], row["rep__team"] or "unassigned"): row for row in rows}
    marts = _mart_rows(
        company.warehouse,
        "select period_start_date as month, group_key as team, bookings_amount as bookings, win_rate "
        "from marts.mart_sales_kpis where group_type = 'team' and period_grain = 'month'",
    )
    assert len({row["team"] for row in marts}) >= 3
    assert _differences({"bookings": ("", 2), "win_rate": ("", 4)}, marts, found, ("month", "team")) == {}


def test_team_enps_shows_suppressed_teams_as_null(company: Company) -> None:
    """eNPS by team comes from the suppressed mart: a hidden team has no figures here either."""
    rows = semantic_layer.query(company.warehouse, saved_query="enps_by_team")
    found = {(row["metric_time__month"], row["engagement_group__group_key"]): row for row in rows}
    marts = _mart_rows(
        company.warehouse,
        "select cast(date_trunc('month', sent_date) as date) as month, group_key, is_suppressed, "
        "enps as team_enps, participation_rate as team_participation_rate "
        "from marts.mart_engagement where group_type = 'team'",
    )
    assert any(row["is_suppressed"] for row in marts) and not all(row["is_suppressed"] for row in marts)
    metrics = {"team_enps": ("", 1), "team_participation_rate": ("", 4)}
    assert _differences(metrics, marts, found, ("month", "group_key")) == {}
    for row in marts:
        if row["is_suppressed"]:
            assert found[(row["month"], row["group_key"])]["team_enps"] is None


def test_definitions_and_saved_queries_validate_against_the_warehouse(company: Company) -> None:
    """``mf validate-configs``: a metric, measure or dimension that does not resolve, or names a
    column the warehouse lacks, fails here."""
    report = semantic_layer.validate(company.warehouse)
    assert "Successfully validated metrics against data warehouse (ERRORS: 0" in report
