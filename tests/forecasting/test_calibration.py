"""Calibration on hand-made histories: the fallbacks, overdue deals, the new-deal model."""

import numpy as np

from forecasting.calibration import (
    MIN_CELL_OBSERVATIONS,
    Deals,
    History,
    OpenDeals,
    close_cdf,
    new_deal_means,
    new_deal_models,
    win_probabilities,
)

F = np.datetime64("2025-06-01")


def history(stages, won, slip_days=0, n=None):
    n = len(stages)
    snapshot = np.full(n, np.datetime64("2025-01-01"))
    expected = snapshot + 30
    return History(
        snapshot_date=snapshot,
        pipeline=np.full(n, "default", dtype=object),
        stage=np.asarray(stages, dtype=object),
        age_days=np.full(n, 10),
        expected_close_date=expected,
        amount=np.full(n, 100.0),
        close_date=expected + slip_days,
        was_won=np.asarray(won, dtype=bool),
        final_amount=np.full(n, 100.0),
    )


def open_deals(stages, expected=None):
    n = len(stages)
    return OpenDeals(
        pipeline=np.full(n, "default", dtype=object),
        stage=np.asarray(stages, dtype=object),
        rep=np.full(n, "r1", dtype=object),
        team=np.full(n, "t1", dtype=object),
        territory=np.full(n, "EU", dtype=object),
        created_date=np.full(n, F - 5),
        expected_close_date=np.full(n, F + 10) if expected is None else np.asarray(expected, dtype="datetime64[D]"),
        amount=np.full(n, 100.0),
        stage_probability=np.full(n, 0.123),
    )


def test_a_small_cell_falls_back_to_the_pipeline_and_no_history_to_the_stage_probability():
    big = MIN_CELL_OBSERVATIONS
    # stage a: enough deals, 1 in 4 won; stage b: too few (all won); the pipeline: a's and b's together
    stages = ["default|a"] * (4 * big) + ["default|b"] * 5
    won = ([True] + [False] * 3) * big + [True] * 5
    probability, level = win_probabilities(history(stages, won), open_deals(["default|a", "default|b"]), F)
    assert probability[0] == 0.25 and level[0] == 0  # its own cell (stage and age bucket)
    assert probability[1] == (big + 5) / (4 * big + 5) and level[1] == 2  # the pipeline
    empty = history([], [])
    probability, level = win_probabilities(empty, open_deals(["default|a"]), F)
    assert probability[0] == 0.123 and level[0] == 4


def test_close_months_follow_the_observed_slippage_and_an_overdue_deal_slips_further():
    # won deals closed 0 days late (half) or 40 days late (half)
    stages = ["default|a"] * (2 * MIN_CELL_OBSERVATIONS)
    base = history(stages, [True] * len(stages))
    slipped = np.where(np.arange(len(stages)) % 2 == 0, 0, 40)
    observed = History(**{**base.__dict__, "close_date": base.expected_close_date + slipped})
    deals = open_deals(["default|a"] * 2, expected=[F + 10, F - 5])
    cdf = close_cdf(observed, deals, F, 3)
    # due on June 11: half close in June, half 40 days later (July 21)
    assert np.allclose(cdf[0], [0.5, 1.0, 1.0])
    # overdue since May 27: it cannot close on time any more, so it slips 40 days (July 6)
    assert np.allclose(cdf[1], [0.0, 1.0, 1.0])


def test_new_deals_are_created_at_the_team_rate_and_won_by_lag():
    # 12 months before June 2025, 10 deals a month in team t1, each won in the month after its creation
    created = np.repeat(np.array([np.datetime64("2024-06-01") + np.timedelta64(31 * m, "D") for m in range(12)]), 10)
    created = created.astype("datetime64[M]").astype("datetime64[D]")
    close = (created.astype("datetime64[M]") + 1).astype("datetime64[D]") + 3
    deals = Deals(
        created_date=created,
        creation_team=np.full(len(created), "t1", dtype=object),
        close_date=close,
        was_won=np.ones(len(created), dtype=bool),
        amount=np.full(len(created), 50.0),
        rep=np.full(len(created), "r1", dtype=object),
        team=np.full(len(created), "t1", dtype=object),
        territory=np.full(len(created), "EU", dtype=object),
    )
    model = new_deal_models(deals, ["t1"], F, 3)["t1"]
    assert model.level == "team" and model.created_per_month == 10
    assert np.allclose(model.won_by_lag, [0.0, 1.0, 0.0])
    # June's deals are won in July, July's in August
    assert np.allclose(new_deal_means(model, F, 3), [0.0, 10.0, 10.0])
