"""Suite files: every suite of expectations/ loads into GX, and a broken file says where it is broken."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from expectations.suites import EXPECTATIONS_DIR, SuiteFileError, load_suite, load_suites


def test_every_suite_loads_and_builds_a_gx_suite() -> None:
    suites = load_suites()
    assert {s.name for s in suites} == {
        "crm_deals", "crm_calls", "crm_emails", "crm_meetings",
        "hris_employees", "surveys_answers", "plans_quotas", "plans_assignments",
    }  # fmt: skip
    assert {s.name for s in suites if s.blocks_finance} == {
        "crm_deals", "hris_employees", "plans_quotas", "plans_assignments"
    }  # fmt: skip
    for suite in suites:
        assert "{scope}" in suite.frame_sql, suite.name
        gx_suite = suite.gx_suite()
        assert len(gx_suite.expectations) == len(suite.expectations) > 2
        severities = {str(getattr(e.severity, "value", e.severity)) for e in gx_suite.expectations}
        assert severities <= {"critical", "warning"}
    deals = next(s for s in suites if s.name == "crm_deals")
    assert deals.asset == ("staging", "stg_crm__deals") and deals.scoped_table == "raw_crm.deals"
    assert deals.scope == "load" and set(deals.parameters) == {"known_stages", "known_owners"}


def _broken_copy(tmp_path: Path, change: callable) -> Path:
    for name in ("crm_deals.json", "crm_deals.sql"):
        shutil.copyfile(EXPECTATIONS_DIR / name, tmp_path / name)
    path = tmp_path / "crm_deals.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["meta"]["spm"].pop("asset"), "meta.spm.asset"),
        (lambda d: d["meta"]["spm"].update(scope="weekly"), "meta.spm.scope"),
        (lambda d: d["meta"]["spm"].update(frame="nope.sql"), "meta.spm.frame"),
        (lambda d: d["expectations"][3].update(severity="fatal"), "expectations[3].severity"),
    ],
)
def test_a_broken_suite_file_names_file_and_field(tmp_path: Path, change: callable, field: str) -> None:
    path = _broken_copy(tmp_path, change)
    with pytest.raises(SuiteFileError, match=re.escape(f"file {path}, field '{field}'")):
        load_suite(path)


def test_a_suite_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(SuiteFileError, match=rf"file {path}: cannot be read as JSON"):
        load_suite(path)
