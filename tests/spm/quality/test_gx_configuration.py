"""GX expectation configurations built once per validation, with the same results as GX alone."""

from __future__ import annotations

import contextlib
from typing import Any

import great_expectations.expectations as gxe
import pytest

from spm.quality import validate
from spm.quality.gx_configuration import configurations_memoised, install
from spm.quality.suites import load_suites
from tests.spm.quality.test_validate import _deals_frame


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[int]]:
    """An in-set expectation whose pydantic ``dict()`` (what GX builds a configuration from) counts its calls."""
    calls = [0]
    expectation_type = gxe.ExpectColumnValuesToBeInSet
    plain_dict = expectation_type.dict

    def counting_dict(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return plain_dict(self, *args, **kwargs)

    monkeypatch.setattr(expectation_type, "dict", counting_dict)
    return expectation_type(column="owner_id", value_set=[f"o{i}" for i in range(100)]), calls


def test_the_change_is_in_place() -> None:
    # fails if a GX upgrade drops the property this relies on
    assert install() is True


def test_built_once_within_a_block_and_on_every_read_outside(counted: tuple[Any, list[int]]) -> None:
    expectation, calls = counted
    install()
    outside = [expectation.configuration for _ in range(3)]
    assert calls[0] == 3
    with configurations_memoised():
        inside = [expectation.configuration for _ in range(3)]
    assert calls[0] == 4
    assert {c.to_json_dict()["kwargs"]["column"] for c in outside + inside} == {"owner_id"}


def test_each_read_gets_its_own_kwargs_and_meta(counted: tuple[Any, list[int]]) -> None:
    expectation, _ = counted
    plain = expectation.configuration.to_json_dict()
    with configurations_memoised():
        first = expectation.configuration
        first.kwargs["mostly"] = 0.5
        first.meta["changed"] = True
        second = expectation.configuration
    assert second is not first
    assert second.to_json_dict() == plain


def test_setting_an_attribute_builds_it_again(counted: tuple[Any, list[int]]) -> None:
    expectation, calls = counted
    with configurations_memoised():
        assert expectation.configuration.kwargs["column"] == "owner_id"
        expectation.column = "deal_stage_id"
        assert expectation.configuration.kwargs["column"] == "deal_stage_id"
    assert calls[0] == 2


def test_a_suite_validates_to_the_same_outcomes_as_with_gx_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    deals = next(s for s in load_suites() if s.name == "crm_deals")
    known = {"known_owners": [f"o{i}" for i in range(1, 6)], "known_stages": ["won", "open", "lost"]}
    frame = validate.vectorisable(_deals_frame())
    memoised = validate._validate(deals, frame, known)
    monkeypatch.setattr(validate, "configurations_memoised", contextlib.nullcontext)
    assert validate._validate(deals, frame, known) == memoised
    assert any(not outcome.success for outcome in memoised)  # the comparison covers failures too
