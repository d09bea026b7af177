"""Frames handed to GX: converted to its vectorised dtypes where exact, with unchanged verdicts."""

from __future__ import annotations

import datetime as dt
import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from expectations.frames import FrameValidation, vectorisable


def _frame() -> pd.DataFrame:
    # What DuckDB's fetch_df_chunk returns: timestamps in microseconds, nullable integers as Int64.
    return pd.DataFrame(
        {
            "occurred_at": pd.Series(
                [dt.datetime(1999, 12, 31, 23), dt.datetime(2025, 3, 1), None, dt.datetime(2026, 1, 2)],
                dtype="datetime64[us]",
            ),
            "duration_ms": pd.array([-5, 1_000, None, 60_000], dtype="Int64"),
            "owner_id": ["1", "2", None, "3"],
        }
    )


def test_timestamps_and_nullable_integers_are_converted_exactly() -> None:
    frame = _frame()
    converted = vectorisable(frame)
    assert converted.dtypes.to_dict() == {
        "occurred_at": np.dtype("datetime64[ns]"),
        "duration_ms": np.dtype("float64"),
        "owner_id": frame.dtypes["owner_id"],
    }
    assert converted["occurred_at"].isna().tolist() == frame["occurred_at"].isna().tolist()
    assert (converted["occurred_at"].dropna() == frame["occurred_at"].dropna()).all()
    assert converted["duration_ms"].isna().tolist() == [False, False, True, False]
    assert converted["duration_ms"].dropna().tolist() == [-5.0, 1000.0, 60000.0]
    assert frame.dtypes["occurred_at"] == np.dtype("datetime64[us]")  # the input is left alone


def test_values_a_conversion_would_change_are_left_as_they_are() -> None:
    frame = pd.DataFrame(
        {
            # year 9999 does not fit datetime64[ns]; 2**60 does not fit a float64 exactly
            "occurred_at": pd.Series([dt.datetime(9999, 1, 1), dt.datetime(2025, 1, 1)], dtype="datetime64[us]"),
            "big": pd.array([2**60 + 1, None], dtype="Int64"),
        }
    )
    converted = vectorisable(frame)
    assert converted.dtypes.to_dict() == frame.dtypes.to_dict()
    assert converted["big"][0] == 2**60 + 1


def _unexpected(frame: pd.DataFrame) -> list[int]:
    """Unexpected counts of three range expectations, validated by GX's pandas engine."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx

        suite = gx.ExpectationSuite(
            name="t",
            expectations=[
                gx.expectations.ExpectColumnValuesToBeBetween(column="occurred_at", min_value="2000-01-01T00:00:00"),
                gx.expectations.ExpectColumnValuesToBeBetween(column="occurred_at", max_value="2025-12-31T23:59:59"),
                gx.expectations.ExpectColumnValuesToBeBetween(column="duration_ms", min_value=0),
            ],
        )
        validation = FrameValidation("t", suite)
        result = validation.run(frame, {}, {"result_format": "SUMMARY"})
        # the same validation runs again on another frame (one context per suite, one run per chunk)
        again = validation.run(frame.head(1), {}, {"result_format": "SUMMARY"})
        assert [item.result["element_count"] for item in again.results] == [1, 1, 1]
    return [item.result["unexpected_count"] for item in result.results]


def test_gx_verdicts_do_not_change_with_the_conversion() -> None:
    assert _unexpected(vectorisable(_frame())) == _unexpected(_frame()) == [1, 1, 1]


def test_a_validation_draws_no_progress_bar(capfd: pytest.CaptureFixture[str]) -> None:
    _unexpected(_frame())
    assert "Calculating Metrics" not in capfd.readouterr().err
