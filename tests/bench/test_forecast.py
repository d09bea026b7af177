"""The forecast's benchmark stage: it runs on its synthetic pipeline and its target applies at large."""

from __future__ import annotations

from bench import forecast
from bench.run import evaluate_targets, render
from tests.bench.test_run import result

TARGET = "forecast: 10,000 simulations over about 100 k open deals under 60 s"


def test_the_stage_forecasts_its_synthetic_pipeline() -> None:
    measured = forecast.run(open_deals=300, simulations=200)
    assert measured["open_deals"] == 300 and measured["simulations"] == 200
    # 300 open deals: 9 reps in 2 teams, 8 territories at most; 4 periods (3 months, 1 quarter)
    assert measured["rows"] == 4 * (measured["reps"] + 2 + min(8, measured["reps"]) + 1)
    assert "200 simulations over 300 open deals" in forecast.render(measured)


def test_the_forecast_target_applies_to_large_only() -> None:
    measured = {
        "open_deals": 100_000,
        "reps": 3030,
        "simulations": 10_000,
        "seconds": 75.0,
        "rows": 1,
        "peak_rss_gib": 0.5,
        "rss_before_gib": 0.1,
    }
    large = result("large", full_wall=100.0, dbt_s=50.0, load_s=20.0, inc_wall=20.0, peak=3.0) | {"forecast": measured}
    targets = {t["target"]: t for t in evaluate_targets(large)}
    assert not targets[TARGET]["met"]
    large["targets"] = list(targets.values())
    assert "forecast: 10,000 simulations over 100,000 open deals" in render(large)
    medium = result("medium", full_wall=40.0, dbt_s=20.0, load_s=10.0, inc_wall=10.0, peak=1.0) | {"forecast": measured}
    assert TARGET not in {t["target"] for t in evaluate_targets(medium)}
