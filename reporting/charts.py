"""The pack's charts: Vega-Lite specifications built with Altair, rendered to static SVG by
vl-convert (no browser, no network, no JavaScript in the page), so the file works offline and
in e-mail.

Each function takes rows of a published mart as :mod:`reporting.queries` picked them and
returns an SVG string, or ``None`` when there is nothing to draw (the page then says so).
Values are plotted as they are; the only changes are reshaping (one row per series) and
labels.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import altair as alt
import vl_convert

from reporting import formatting
from reporting.queries import Row

#: Width of a full-width chart (px); the page is about 760 px wide.
WIDTH = 640
#: The pack's colours: bookings/actual, quota/forecast, neutral, suppressed.
BLUE, ORANGE, GREEN, GREY = "#2f6db5", "#e07b00", "#3a9a5b", "#9aa0a6"
FONT = "DejaVu Sans"


def _plain(value: Any) -> Any:
    """A JSON value for the chart's data (a Decimal plots as a number, a date as its label)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _data(rows: Iterable[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=[{key: _plain(value) for key, value in row.items()} for row in rows])


def month_label(month: dt.date) -> str:
    """``Nov 2025``: the month axis of the trend charts."""
    return f"{month:%b %Y}"


def _months(rows: Sequence[Row], key: str = "period_start_date") -> list[str]:
    return [month_label(month) for month in sorted({row[key] for row in rows})]


def _configured(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=11, titleFontSize=12, gridColor="#e6e6e6")
        .configure_legend(labelFontSize=11, titleFontSize=12, orient="top")
        .configure_title(fontSize=13, anchor="start")
    )


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as a standalone SVG element."""
    svg = vl_convert.vegalite_to_svg(_configured(chart).to_dict())
    return svg[svg.index("<svg") :]


def _series_colour(domain: list[str], colours: list[str], title: str = "") -> alt.Color:
    return alt.Color("series:N", scale=alt.Scale(domain=domain, range=colours), title=title or None)


def bookings_vs_quota(team_trend: Sequence[Row], currency: str) -> str | None:
    """Per team (small multiples): bookings per month as bars, quota as a line."""
    rows = []
    for row in team_trend:
        base = {"team": row["group_name"], "month": month_label(row["period_start_date"])}
        rows.append({**base, "series": "Bookings", "amount": row["bookings_amount"]})
        if row["quota_amount"] is not None:
            rows.append({**base, "series": "Quota", "amount": row["quota_amount"]})
    if not rows:
        return None
    months = _months(team_trend)
    colour = _series_colour(["Bookings", "Quota"], [BLUE, ORANGE])
    x = alt.X("month:O", sort=months, title=None, axis=alt.Axis(labelAngle=-45))
    y = alt.Y("amount:Q", title=f"{currency}", axis=alt.Axis(format="~s"))
    tooltip = ["team:N", "month:O", alt.Tooltip("amount:Q", format=",.0f"), "series:N"]
    bars = alt.Chart().transform_filter("datum.series == 'Bookings'").mark_bar().encode(x, y, colour, tooltip=tooltip)
    line = (
        alt.Chart()
        .transform_filter("datum.series == 'Quota'")
        .mark_line(point=True, strokeWidth=2)
        .encode(x, y, colour, tooltip=tooltip)
    )
    chart = alt.layer(bars, line, data=_data(rows)).properties(width=270, height=150)
    return to_svg(chart.facet(facet=alt.Facet("team:N", title=None), columns=2))


def attainment_distribution(attainment: Sequence[Row]) -> str | None:
    """Reps by quota attainment of the month (10-point bins up to 400 %), with the 100 % line."""
    if not attainment:
        return None
    top = max(2.0, max(float(row["quota_attainment"]) for row in attainment))
    # 10-point bins up to 400 %; wider beyond, so that a far outlier does not make hundreds of bins
    step, tick = (0.1, 0.5) if top <= 4 else (0.25, 1.0) if top <= 10 else (float(math.ceil(top / 40)), 5.0)
    bars = (
        alt.Chart(_data(attainment))
        .mark_bar(color=BLUE)
        .encode(
            alt.X(
                "quota_attainment:Q",
                bin=alt.Bin(step=step, extent=[0, top]),
                title="Quota attainment (bookings / prorated quota); dashed: 100 %",
                axis=alt.Axis(format=".0%", values=[n * tick for n in range(int(top / tick) + 2)], labelAngle=0),
            ),
            alt.Y("count():Q", title="Reps", axis=alt.Axis(tickMinStep=1)),
        )
    )
    quota_line = (
        alt.Chart(alt.Data(values=[{"at": 1.0}]))
        .mark_rule(color=ORANGE, strokeDash=[4, 3], strokeWidth=2)
        .encode(x="at:Q")
    )
    return to_svg(alt.layer(bars, quota_line).properties(width=WIDTH, height=180))


def funnel(funnel_rows: Sequence[Row]) -> str | None:
    """Each funnel of the month's cohort: how many entered each step, with the step's conversion."""
    if not funnel_rows:
        return None
    rows = [
        {
            "funnel": "Lead lifecycle" if row["funnel"] == "lifecycle" else f"Pipeline: {row['funnel']}",
            "step": f"{row['step_order']}. {row['step']}",
            "entered": row["entered"],
            "label": f"{row['entered']:,}"
            + (
                f"  → {formatting.percent(row['conversion_rate'])} advance"
                if row["conversion_rate"] is not None
                else ""
            ),
        }
        for row in funnel_rows
    ]
    base = alt.Chart().encode(alt.Y("step:N", title=None, sort=None))
    bars = base.mark_bar(color=BLUE).encode(alt.X("entered:Q", title="Entered the step", axis=alt.Axis(format="~s")))
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(alt.X("entered:Q"), alt.Text("label:N"))
    chart = alt.layer(bars, text, data=_data(rows)).properties(width=420, height=alt.Step(20))
    return to_svg(
        chart.facet(
            row=alt.Row("funnel:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left"))
        ).resolve_scale(y="independent", x="independent")
    )


def win_rate_and_cycle(company_trend: Sequence[Row]) -> str | None:
    """The company's win rate and sales cycle (median and mean of won deals) per month."""
    if not company_trend:
        return None
    months = _months(company_trend)
    x = alt.X("month:O", sort=months, title=None, axis=alt.Axis(labelAngle=-45))
    win = [
        {"month": month_label(r["period_start_date"]), "series": "Win rate", "value": r["win_rate"]}
        for r in company_trend
        if r["win_rate"] is not None
    ] + [
        {"month": month_label(r["period_start_date"]), "series": "Value win rate", "value": r["value_win_rate"]}
        for r in company_trend
        if r["value_win_rate"] is not None
    ]
    cycle = [
        {"month": month_label(r["period_start_date"]), "series": series, "value": r[column]}
        for r in company_trend
        for series, column in (("Median", "sales_cycle_days_median"), ("Mean", "sales_cycle_days_mean"))
        if r[column] is not None
    ]
    if not win and not cycle:
        return None
    rates = (
        alt.Chart(_data(win), title="Win rate (won / closed)")
        .mark_line(point=True)
        .encode(
            x,
            alt.Y("value:Q", title=None, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=True)),
            _series_colour(["Win rate", "Value win rate"], [BLUE, GREEN]),
        )
        .properties(width=280, height=180)
    )
    cycles = (
        alt.Chart(_data(cycle), title="Sales cycle of won deals (days)")
        .mark_line(point=True)
        .encode(
            x,
            alt.Y("value:Q", title=None, scale=alt.Scale(zero=True)),
            alt.Color("series:N", scale=alt.Scale(domain=["Median", "Mean"], range=[ORANGE, GREY]), title=None),
        )
        .properties(width=280, height=180)
    )
    return to_svg(alt.hconcat(rates, cycles).resolve_scale(color="independent"))


def pipeline_coverage(teams: Sequence[Row], company: Row) -> str | None:
    """Open pipeline closing in the month over the quota still to book, per team and company."""
    rows = [
        {
            "group": row["group_name"],
            "coverage": row["pipeline_coverage"],
            "label": formatting.ratio(row["pipeline_coverage"]),
        }
        for row in [*teams, company]
        if row["pipeline_coverage"] is not None
    ]
    if not rows:
        return None
    base = alt.Chart().encode(alt.Y("group:N", title=None, sort=[r["group"] for r in rows]))
    bars = base.mark_bar().encode(
        alt.X("coverage:Q", title="Pipeline coverage (open pipeline / quota left to book)"),
        color=alt.condition("datum.group == 'Company'", alt.value(ORANGE), alt.value(BLUE)),
    )
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(alt.X("coverage:Q"), alt.Text("label:N"))
    return to_svg(alt.layer(bars, text, data=_data(rows)).properties(width=520, height=alt.Step(24)))


def forecast_vs_actual(forecast_trend: Sequence[Row], currency: str) -> str | None:
    """The company's stage-weighted forecast (taken at each month's start) against its bookings."""
    rows = [
        {"month": month_label(r["period_start_date"]), "series": series, "amount": r[column]}
        for r in forecast_trend
        for series, column in (("Forecast (stage-weighted)", "forecast_amount"), ("Actual bookings", "actual_amount"))
    ]
    if not rows:
        return None
    chart = (
        alt.Chart(_data(rows))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            alt.X("month:O", sort=_months(forecast_trend), title=None, axis=alt.Axis(labelAngle=-45)),
            alt.Y("amount:Q", title=currency, axis=alt.Axis(format="~s")),
            _series_colour(["Forecast (stage-weighted)", "Actual bookings"], [ORANGE, BLUE]),
        )
        .properties(width=WIDTH, height=200)
    )
    return to_svg(chart)


def engagement_by_team(engagement: Sequence[Row]) -> str | None:
    """eNPS and participation per team of the wave; a suppressed team is drawn as 'suppressed'."""
    if not engagement:
        return None
    rows = [
        {
            "group": "Company" if row["group_type"] == "company" else row["group_key"],
            "enps": row["enps"],
            "participation": row["participation_rate"],
            "suppressed": bool(row["is_suppressed"]),
            "enps_label": "suppressed" if row["is_suppressed"] else formatting.number(row["enps"], 1),
            "participation_label": "suppressed"
            if row["is_suppressed"]
            else formatting.percent(row["participation_rate"], 0),
        }
        for row in engagement
    ]
    order = [row["group"] for row in rows]
    y = alt.Y("group:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    status = alt.Color("status:N", scale=alt.Scale(domain=["shown", "suppressed"], range=[BLUE, GREY]), title="Group")

    def panel(value: str, label: str, title: str, scale: alt.Scale, axis_format: str) -> alt.LayerChart:
        base = alt.Chart().transform_calculate(
            status="datum.suppressed ? 'suppressed' : 'shown'", at=f"datum.suppressed ? 0 : max(datum.{value}, 0)"
        )
        bars = (
            base.transform_filter("!datum.suppressed")
            .mark_bar()
            .encode(alt.X(f"{value}:Q", title=title, scale=scale, axis=alt.Axis(format=axis_format)), y, status)
        )
        hidden = (
            base.transform_filter("datum.suppressed")
            .mark_point(shape="square", size=60, filled=True)
            .encode(alt.X("at:Q", scale=scale), y, status)
        )
        text = base.mark_text(align="left", dx=6, fontSize=11).encode(
            alt.X("at:Q", scale=scale),
            y,
            alt.Text(f"{label}:N"),
            color=alt.condition("datum.suppressed", alt.value("#5f6368"), alt.value("#202124")),
        )
        return alt.layer(bars, hidden, text, data=_data(rows)).properties(width=260, height=alt.Step(24))

    enps = panel("enps", "enps_label", "eNPS (-100 to 100)", alt.Scale(domain=[-100, 100]), "d")
    participation = panel(
        "participation", "participation_label", "Participation (respondents / invited)", alt.Scale(domain=[0, 1]), ".0%"
    )
    return to_svg(alt.hconcat(enps, participation))


def commission_expense(commission_trend: Sequence[Row]) -> str | None:
    """Commission expense per month (bars) and the payout as a share of the month's bookings (line)."""
    if not commission_trend:
        return None
    currency = commission_trend[0]["currency_code"]
    rows = [
        {
            "month": month_label(r["period_start_date"]),
            "expense": r["commission_expense_amount"],
            "share": r["commission_share_of_bookings"],
            "series": "Commission expense",
            "share_series": "Payout % of bookings",
        }
        for r in commission_trend
        if r["currency_code"] == currency
    ]
    x = alt.X("month:O", sort=_months(commission_trend), title=None, axis=alt.Axis(labelAngle=-45))
    bars = (
        alt.Chart()
        .mark_bar(opacity=0.85)
        .encode(
            x,
            alt.Y("expense:Q", title=f"Commission expense ({currency})", axis=alt.Axis(format="~s")),
            alt.Color("series:N", scale=alt.Scale(domain=["Commission expense"], range=[BLUE]), title=None),
        )
    )
    line = (
        alt.Chart()
        .transform_filter("datum.share != null")
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x,
            alt.Y("share:Q", title="Payout % of bookings", axis=alt.Axis(format=".1%")),
            alt.Stroke("share_series:N", scale=alt.Scale(domain=["Payout % of bookings"], range=[ORANGE]), title=None),
        )
    )
    chart = (
        alt.layer(bars, line, data=_data(rows)).resolve_scale(y="independent").properties(width=WIDTH - 60, height=200)
    )
    return to_svg(chart)
