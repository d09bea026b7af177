"""Validating a frame: runtime value sets are cut to the frame's values without changing results."""

from __future__ import annotations

import pandas as pd

from expectations.frames import FrameValidation, vectorisable
from expectations.suites import load_suites
from expectations.validate import _validate, narrowed_parameters


def _deals_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["1", "2", "3"],
            "amount_text": ["10", "20", "30"],
            "amount": [10.0, 20.0, 30.0],
            "currency_code": ["USD", "USD", "EUR"],
            "deal_stage_id": ["won", "open", "gone"],
            "owner_id": ["o1", None, "o9"],
            "is_won": [True, False, False],
            "close_date": pd.to_datetime(["2025-01-02", None, None]),
            "create_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-01"]),
            "close_days_beyond_a_year_after_as_of": [-300.0, None, None],
            "_source_file": ["f.jsonl"] * 3,
            "_source_line": [1, 2, 3],
        }
    )


def test_value_sets_keep_only_values_the_frame_holds() -> None:
    deals = next(s for s in load_suites() if s.name == "crm_deals")
    known = {"known_owners": [f"o{i}" for i in range(1, 6)], "known_stages": ["won", "open", "lost"]}
    narrowed = narrowed_parameters(deals, _deals_frame(), known)
    assert narrowed == {"known_owners": ["o1"], "known_stages": ["won", "open"]}


def test_values_outside_the_sets_are_still_found_with_their_lines() -> None:
    deals = next(s for s in load_suites() if s.name == "crm_deals")
    known = {"known_owners": [f"o{i}" for i in range(1, 6)], "known_stages": ["won", "open", "lost"]}
    validation = FrameValidation(deals.name, deals.gx_suite())
    outcomes = _validate(deals, validation, vectorisable(_deals_frame()), known)
    failed = {o.summary: o for o in outcomes if not o.success}
    assert set(failed) == {"stage is a stage of the pipelines", "owner is a CRM owner"}
    assert failed["owner is a CRM owner"].examples == [{"owner_id": "o9", "_source_file": "f.jsonl", "_source_line": 3}]
    assert failed["stage is a stage of the pipelines"].examples == [
        {"deal_stage_id": "gone", "_source_file": "f.jsonl", "_source_line": 3}
    ]
