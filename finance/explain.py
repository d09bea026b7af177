"""`spm explain`: the chain behind each payout line of a rep's month, from ``marts.mart_payout_lineage``.

For every line: what it pays, the deal version it was computed from and where that version came
from (landing file and line, or API delivery, and the dlt load), the credit share and its split
row, the quota and attainment with the quota row, the band, rate and rule with the plan's
file:line and YAML path, and the rule in words (which says what a cap or gate cut, and for an
adjustment which closed line it corrects and which inputs changed, with both values). A closed
month shows what was frozen with its lines at close, whatever the deal looks like today.
Read-only; no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from finance.periods import FinanceError, parse_period, require_mart

LINEAGE = "marts.mart_payout_lineage"


@dataclass(frozen=True)
class Explanation:
    """The text of an explanation, and how many payout lines it covers."""

    lines: tuple[str, ...]
    line_count: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _money(amount: Decimal | None, currency: str | None) -> str:
    if amount is None:
        return "none"
    return f"{Decimal(amount):,.2f} {currency or ''}".strip()


def _where(file: str | None, line: int | None) -> str:
    if not file:
        return "not recorded"
    return f"{file}:{line}" if line is not None else file


def _percent(fraction: Decimal | None, scale: Decimal = Decimal(1)) -> str:
    if fraction is None:
        return "none"
    return f"{Decimal(fraction) * 100 / scale:,.1f} %"


def _describe_line(row: dict[str, Any]) -> list[str]:
    """The chain of one payout line, as indented lines of text."""
    currency = row["currency_code"]
    title = f"{row['line_type']} {_money(row['amount'], currency)}"
    if row["component_id"]:
        title += f" ({row['component_id']}"
        title += f", band {row['tier_number']})" if row["tier_number"] is not None else ")"
    if row["deal_id"]:
        title += f" · deal {row['deal_id']}" + (f" {row['deal_name']!r}" if row["deal_name"] else "")
    if row["statement_reference"]:
        title += f" · ref {row['statement_reference']}"
    out = [title]
    if row["deal_id"]:
        if row["deal_updated_at"] is None and row["deal_amount"] is None:
            out.append("    deal version: not recorded (line closed before the ledger kept it)")
        else:
            version = f"{row['deal_updated_at']:%Y-%m-%d %H:%M:%S}" if row["deal_updated_at"] else "unknown"
            load = f"load {row['deal_load_id']}" if row["deal_load_id"] else "load not recorded"
            if row["deal_loaded_at"] is not None:
                load += f", loaded {row['deal_loaded_at']:%Y-%m-%d %H:%M:%S} UTC"
            out.append(
                f"    deal version {version} from {_where(row['deal_source_file'], row['deal_source_line'])} ({load}): "
                f"amount {_money(row['deal_amount'], row['deal_currency_code'])}, close date "
                f"{row['deal_close_date'] or 'none'}, stage {row['deal_stage_id'] or 'none'}"
            )
    if row["credit_pct"] is not None:
        split = (
            f", split row {_where(row['split_source_file'], row['split_source_line'])}"
            if row["split_source_file"]
            else ""
        )
        credited = (
            f" = {_money(row['credited_amount'], currency)} credited" if row["credited_amount"] is not None else ""
        )
        out.append(
            f"    credit {_percent(row['credit_pct'], Decimal(100))} ({row['credit_source'] or 'source not recorded'})"
            f"{split}{credited}"
        )
    if row["line_type"] in ("commission", "multiplier", "spif", "clawback", "adjustment"):
        month = row["corrects_period_month"] or row["period_month"]
        out.append(
            f"    quota of {month} {_money(row['quota_amount'], currency)} "
            f"({_where(row['quota_source_file'], row['quota_source_line'])}), attainment {_percent(row['attainment'])}"
        )
    if row["line_type"] == "commission" and (row["tier_number"] is not None or row["rate"] is not None):
        band = f"band {row['tier_number']} " if row["tier_number"] is not None else ""
        base = f" on {_money(row['band_amount'], currency)}" if row["band_amount"] is not None else ""
        out.append(f"    {band}at {_percent(row['rate'])}{base}")
    if row["rule_source_file"]:
        location = f", {row['rule_source_location']}" if row["rule_source_location"] else ""
        out.append(f"    rule from {_where(row['rule_source_file'], row['rule_source_line'])}{location}")
    out.append(f"    {row['rule_applied']}")
    return out


def explain(warehouse: Path | str, employee_id: str, period: str, deal_id: str | None = None) -> Explanation:
    """The chain behind each payout line of ``employee_id``'s ``period`` (only the lines that pay or
    correct ``deal_id`` when given), read from ``marts.mart_payout_lineage``."""
    period = parse_period(period)
    employee_id = (employee_id or "").strip()
    if not employee_id:
        raise FinanceError("--rep needs an employee id (HRIS id, as on the statements)")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        require_mart(con, "mart_payout_lineage")
        cursor = con.execute(
            f"select * from {LINEAGE} where employee_id = ? and period_month = ? "
            "and (? is null or deal_id = ?) "
            "order by case line_type when 'commission' then 1 when 'multiplier' then 2 when 'spif' then 3 "
            "when 'clawback' then 4 when 'adjustment' then 5 when 'manual_adjustment' then 6 else 7 end, "
            "deal_id, component_id, tier_number, payout_line_key",
            [employee_id, period, deal_id, deal_id],
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        if not rows:
            known = con.execute(f"select count(*) from {LINEAGE} where employee_id = ?", [employee_id]).fetchone()[0]
            if not known:
                raise FinanceError(f"no payout lines for employee {employee_id} in any period")
            what = f" for deal {deal_id}" if deal_id else ""
            raise FinanceError(f"no payout lines{what} for employee {employee_id} in {period}")
    first = rows[0]
    status = first["period_status"]
    if status == "closed":
        state = f"closed, ledger version {first['ledger_version']}, closed at {first['closed_at']:%Y-%m-%d %H:%M} UTC"
        state += " (lines as frozen at the close)"
    else:
        state = f"{status} (lines follow today's data)"
    total = sum((Decimal(row["amount"]) for row in rows), Decimal("0.00"))
    header = (
        f"{employee_id} {first['rep_name'] or ''}".strip()
        + f", {period}: {state}; {len(rows)} line(s), {_money(total, first['currency_code'])}"
    )
    text = [header]
    for row in rows:
        text.append("")
        text.extend(_describe_line(row))
    return Explanation(tuple(text), len(rows))
