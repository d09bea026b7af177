"""The pack's page: one self-contained HTML file (styles and charts inline, no script, no link
to fetch), from ``templates/pack.html.j2``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2
from markupsafe import Markup

from reporting import charts, formatting
from reporting.queries import MARTS_READ, OTHER_TABLES_READ, PackData

TEMPLATES = Path(__file__).parent / "templates"

#: Why an engagement group shows no figures (mart_engagement.suppression_reason).
SUPPRESSION_REASONS = {
    "below_min_group_size": "suppressed: fewer respondents than the minimum group size",
    "secondary_disclosure": "suppressed: would reveal a smaller group by subtraction",
}


def template_environment(folder: Path = TEMPLATES) -> jinja2.Environment:
    """Jinja2 for the templates of ``folder``: HTML escaped, undefined names an error, and the
    :mod:`reporting.formatting` filters (``money``, ``percent``, ``ratio``, ``number``, ``days``)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        money=formatting.money,
        percent=formatting.percent,
        ratio=formatting.ratio,
        number=formatting.number,
        days=formatting.days,
        month_label=charts.month_label,
    )
    return environment


def chart_svgs(data: PackData) -> dict[str, Markup | None]:
    """Every chart of the pack as inline SVG (``None``: nothing to draw for the month)."""
    currency = data.company["currency_code"]
    drawn = {
        "bookings_vs_quota": charts.bookings_vs_quota(data.team_trend, currency),
        "attainment": charts.attainment_distribution(data.attainment),
        "funnel": charts.funnel(data.funnel),
        "win_rate_and_cycle": charts.win_rate_and_cycle(data.company_trend),
        "pipeline_coverage": charts.pipeline_coverage(data.teams, data.company),
        "forecast": charts.forecast_vs_actual(data.forecast_trend, currency),
        "engagement": charts.engagement_by_team(data.engagement),
        "commission": charts.commission_expense(data.commission_trend),
    }
    return {name: Markup(svg) if svg is not None else None for name, svg in drawn.items()}


def render_html(data: PackData, generated_at: dt.datetime | None = None) -> str:
    """The pack of ``data`` as one HTML document."""
    # the mart says whether the month is over by the data's as-of date (is_complete_period)
    in_progress = data.company.get("is_complete_period") is False
    return (
        template_environment()
        .get_template("pack.html.j2")
        .render(
            data=data,
            company=data.company,
            currency=data.company["currency_code"],
            month_name=formatting.month_name(data.month),
            in_progress=in_progress,
            charts=chart_svgs(data),
            suppression_reasons=SUPPRESSION_REASONS,
            generated_at=generated_at or dt.datetime.now(dt.UTC),
            marts_read=MARTS_READ,
            other_tables_read=OTHER_TABLES_READ,
            top_reps=data.leaderboard[:10],
        )
    )
