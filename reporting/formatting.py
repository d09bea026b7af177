"""Numbers written for people: money with thousands separators and its currency, rates as
percentages, days and counts. Formatting only: every value comes from a mart as it is."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

#: What the pack shows where a mart has no figure (a rate without a denominator).
MISSING = "–"


def money(amount: Decimal | float | int | None, currency: str, decimals: int = 0) -> str:
    """``USD 1,234,568`` (``decimals`` places, half away from zero as the mart's decimals round)."""
    if amount is None:
        return MISSING
    return f"{currency} {Decimal(amount):,.{decimals}f}"


def percent(share: Decimal | float | None, decimals: int = 1) -> str:
    """``87.3 %`` for the share 0.873."""
    if share is None:
        return MISSING
    return f"{Decimal(str(share)) * 100:,.{decimals}f} %"


def ratio(value: Decimal | float | None, decimals: int = 2) -> str:
    """``3.00x`` (pipeline coverage: pipeline over the quota still to book)."""
    if value is None:
        return MISSING
    return f"{Decimal(str(value)):,.{decimals}f}x"


def number(value: Decimal | float | int | None, decimals: int = 0) -> str:
    """``1,234`` or ``12.5``."""
    if value is None:
        return MISSING
    return f"{Decimal(str(value)):,.{decimals}f}"


def days(value: Decimal | float | None) -> str:
    """``42.5 days``."""
    return MISSING if value is None else f"{number(value, 1)} days"


def month_name(month: dt.date) -> str:
    """``November 2025``."""
    return f"{month:%B %Y}"
