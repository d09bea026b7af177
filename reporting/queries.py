"""The rows of one month's pack, picked from the serving file's published tables.

Every figure the pack shows is a column of a published mart (or of the ``rejects``, ``quality``
and ``serving_info`` tables the publish writes beside them): these queries only choose rows
(the month, the twelve months before it, the latest survey wave) and columns.

The serving file is opened read-only: a pack never waits on a run, and a run never waits on a
pack (``docs/serving.md``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core.rejects import rejects_by_reason
from reporting.errors import NoDataError, ReportError

#: Months of history the trend charts show, the pack's month included.
TREND_MONTHS = 12
#: The published tables the pack reads (its exposure in dbt, and docs/monthly_pack.md).
MARTS_READ = (
    "mart_sales_kpis",
    "mart_leaderboard",
    "mart_funnel",
    "mart_forecast_accuracy",
    "mart_engagement",
    "mart_commission_expense_rollforward",
    "fct_pipeline_snapshots",
)
OTHER_TABLES_READ = (
    "rejects.* (every published rejects table)",
    "quality.suite_validations",
    "quality.expectation_results",
    "serving_info.publication",
    "serving_info.tables",
)
Row = dict[str, Any]

_MONTH = re.compile(r"(\d{4})-(\d{2})")

#: The commission roll-forward of each month (ASC 340-40 expense, the payout and the payout as a
#: share of the company's bookings, all columns of the mart).
COMMISSION_SHARE_SQL = """
select
    period_start_date,
    period_month,
    currency_code,
    commission_expense_amount,
    amortised_amount,
    expensed_immediately_amount,
    capitalised_amount,
    closing_asset_amount,
    total_payout_amount,
    bookings_amount,
    commission_share_of_bookings
from marts.mart_commission_expense_rollforward
where period_start_date between ? and ?
order by period_start_date, currency_code
"""


def parse_month(text: str) -> dt.date:
    """The first day of the month ``YYYY-MM``; :class:`ReportError` for anything else."""
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise ReportError(f"the month must be YYYY-MM (e.g. 2025-11), not {text!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (or before) ``month``."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass
class Publication:
    """Which publish (and so which run) the pack shows."""

    published_at: dt.datetime | None
    run_id: str
    as_of: dt.date | None
    kept_from_previous: list[Row] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)


@dataclass
class PackData:
    """Everything one month's pack shows, as rows of the published tables."""

    month: dt.date
    publication: Publication
    company: Row
    teams: list[Row]
    team_trend: list[Row]
    company_trend: list[Row]
    attainment: list[Row]
    leaderboard: list[Row]
    funnel: list[Row]
    forecast_trend: list[Row]
    forecast_teams: list[Row]
    engagement_wave: Row | None
    engagement: list[Row]
    commission_trend: list[Row]
    rejects: list[Row]
    suites: list[Row]
    failed_expectations: list[Row]

    @property
    def label(self) -> str:
        """``YYYY-MM``."""
        return f"{self.month:%Y-%m}"

    @property
    def commission_month(self) -> list[Row]:
        """The month's commission expense rows (one per currency)."""
        return [row for row in self.commission_trend if row["period_start_date"] == self.month]


def _rows(connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[Row]:
    cursor = connection.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def open_serving(serving: Path) -> duckdb.DuckDBPyConnection:
    """The serving file, read-only; :class:`ReportError` when there is none or it cannot be read."""
    if not serving.is_file():
        raise ReportError(
            f"no serving file at {serving}: a successful `spm run` or `spm publish` writes it (or pass --serving)"
        )
    try:
        return duckdb.connect(str(serving), read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the serving file {serving}: {str(exc).splitlines()[0]}") from None


def load_pack_data(serving: Path, month: dt.date) -> PackData:
    """The rows of ``month``'s pack from ``serving``; :class:`NoDataError` when it has none for it."""
    connection = open_serving(serving)
    try:
        return _load(connection, month)
    except duckdb.CatalogException as exc:
        raise ReportError(
            f"the serving file {serving} lacks a table the pack reads ({str(exc).splitlines()[0]}); "
            "publish again with this version (`spm publish`)"
        ) from None
    finally:
        connection.close()


def _load(connection: duckdb.DuckDBPyConnection, month: dt.date) -> PackData:
    publication = _publication(connection)
    start = add_months(month, -(TREND_MONTHS - 1))
    company = _rows(
        connection,
        "select * from marts.mart_sales_kpis where period_grain = 'month' and group_type = 'company' "
        "and period_start_date = ?",
        [month],
    )
    if publication.as_of is not None and month > publication.as_of:
        raise NoDataError(
            f"no data for {month:%Y-%m}: the published data is as of {publication.as_of:%Y-%m-%d} "
            f"(latest month {publication.as_of:%Y-%m})"
        )
    if not company:
        first = connection.execute(
            "select min(period_start_date) from marts.mart_sales_kpis where period_grain = 'month'"
        ).fetchone()[0]
        since = f"the published marts start at {first:%Y-%m}" if first else "the published marts are empty"
        raise NoDataError(f"no data for {month:%Y-%m}: {since}")
    kpi_window = (
        "select * from marts.mart_sales_kpis where period_grain = 'month' and group_type = ? "
        "and period_start_date between ? and ? order by period_start_date, group_name"
    )
    teams = _rows(connection, kpi_window, ["team", month, month])
    leaderboard = _rows(
        connection,
        "select * from marts.mart_leaderboard where period_start_date = ? "
        "order by bookings_rank_in_company, attainment_rank_in_company nulls last, rep_name",
        [month],
    )
    wave = _rows(
        connection,
        "select survey_id, survey_name, sent_date from marts.mart_engagement where sent_date < ? "
        "group by all order by sent_date desc limit 1",
        [add_months(month, 1)],
    )
    engagement = (
        _rows(
            connection,
            "select * from marts.mart_engagement where survey_id = ? and group_type in ('company', 'team') "
            "order by group_type = 'team', group_key",
            [wave[0]["survey_id"]],
        )
        if wave
        else []
    )
    suites = _rows(
        connection,
        "select * from quality.suite_validations "
        "qualify row_number() over (partition by suite order by validated_at desc) = 1 order by suite",
    )
    return PackData(
        month=month,
        publication=publication,
        company=company[0],
        teams=teams,
        team_trend=_rows(connection, kpi_window, ["team", start, month]),
        company_trend=_rows(connection, kpi_window, ["company", start, month]),
        attainment=[row for row in leaderboard if row["quota_attainment"] is not None],
        leaderboard=leaderboard,
        funnel=_rows(
            connection,
            "select * from marts.mart_funnel where cohort_month = ? order by funnel != 'lifecycle', funnel, step_order",
            [month],
        ),
        forecast_trend=_rows(
            connection,
            "select * from marts.mart_forecast_accuracy where period_grain = 'month' and group_type = 'company' "
            "and period_start_date between ? and ? order by period_start_date",
            [start, month],
        ),
        forecast_teams=_rows(
            connection,
            "select * from marts.mart_forecast_accuracy where period_grain = 'month' and group_type = 'team' "
            "and period_start_date = ? order by group_key",
            [month],
        ),
        engagement_wave=wave[0] if wave else None,
        engagement=engagement,
        commission_trend=_rows(connection, COMMISSION_SHARE_SQL, [start, month]),
        rejects=_rejects(connection),
        suites=suites,
        failed_expectations=_rows(
            connection,
            "select results.suite, results.severity, results.summary, results.expectation_type, "
            "results.unexpected_count, results.element_count from quality.expectation_results as results "
            "where not results.success and results.validation_id in (select unnest(?)) "
            "order by results.severity, results.suite, results.summary",
            [[suite["validation_id"] for suite in suites]],
        ),
    )


def _publication(connection: duckdb.DuckDBPyConnection) -> Publication:
    published = _rows(connection, "select published_at, run_id, withheld from serving_info.publication")
    as_of = connection.execute("select max(captured_as_of) from marts.fct_pipeline_snapshots").fetchone()[0]
    kept = _rows(
        connection,
        "select table_schema, table_name, reason from serving_info.tables where origin != 'this publish' order by 1, 2",
    )
    row = published[0] if published else {"published_at": None, "run_id": "", "withheld": "[]"}
    try:
        withheld = [str(name) for name in json.loads(row["withheld"] or "[]")]
    except ValueError:
        withheld = []
    return Publication(row["published_at"], row["run_id"] or "", as_of, kept, withheld)


def _rejects(connection: duckdb.DuckDBPyConnection) -> list[Row]:
    """Rows kept out of staging, per entity and reason, with the first of them."""
    return [
        {"entity": entity, "reason": reason, "rejected_rows": rows, "first_row": first}
        for entity, reason, rows, first in rejects_by_reason(connection)
    ]
