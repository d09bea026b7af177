"""A whole-table suite on unchanged inputs repeats its last results instead of validating again;
any change to the rows, the runtime values or the suite validates again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from expectations.suites import Suite, load_suites
from expectations.validate import UNCHANGED_SCOPE, run_suite


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """Raw survey tables with three answers of one response, one of them scored out of range."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            """
            create schema raw_surveys;
            create table raw_surveys.answers as
                select * from (values
                    ('A1', 'R1', 'S1', 'q1', 7, 'answers.jsonl', 1, '100.1'),
                    ('A2', 'R1', 'S1', 'q2', 11, 'answers.jsonl', 2, '100.1'),
                    ('A3', 'R1', 'S1', 'q3', 9, 'answers.jsonl', 3, '100.1')
                ) as t(answer_id, response_id, survey_id, question_id, score, _source_file, _source_line, _dlt_load_id);
            create table raw_surveys.responses as
                select 'R1' as response_id, 'S1' as survey_id, 'E1' as respondent_employee_id, '100.1' as _dlt_load_id;
            create table raw_surveys.survey_questions as
                select 'S1' as survey_id, unnest(['q1', 'q2', 'q3']) as question_id, '100.1' as _dlt_load_id;
            """
        )
    return path


@pytest.fixture
def answers_suite() -> Suite:
    suite = next(s for s in load_suites() if s.name == "surveys_answers")
    assert suite.scope == "table"
    return suite


def _validations(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            "select validation_id, scope, reused_validation_id, rows_evaluated, success "
            "from quality.suite_validations order by validated_at"
        ).fetchall()


def test_unchanged_inputs_repeat_the_last_results(warehouse: Path, answers_suite: Suite) -> None:
    first = run_suite(warehouse, answers_suite)
    assert first.scope == "table" and first.reused_validation_id is None
    assert [o.summary for o in first.failed_critical] == ["score is an integer from 0 to 10"]

    again = run_suite(warehouse, answers_suite)
    assert again.scope == UNCHANGED_SCOPE
    assert again.reused_validation_id == first.validation_id
    assert again.outcomes == first.outcomes  # the failure and its example (value, file, line) included
    assert again.rows_evaluated == 3 and not again.success

    third = run_suite(warehouse, answers_suite)
    assert third.reused_validation_id == first.validation_id  # the validation that computed them
    history = _validations(warehouse)
    assert [row[1] for row in history] == ["table", UNCHANGED_SCOPE, UNCHANGED_SCOPE]
    assert [row[2] for row in history] == [None, first.validation_id, first.validation_id]


def test_a_changed_row_is_validated_again(warehouse: Path, answers_suite: Suite) -> None:
    run_suite(warehouse, answers_suite)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("update raw_surveys.answers set score = 10 where answer_id = 'A2'")
    corrected = run_suite(warehouse, answers_suite)
    assert corrected.scope == "table" and corrected.reused_validation_id is None
    assert corrected.success


def test_a_joined_table_counts_as_input(warehouse: Path, answers_suite: Suite) -> None:
    run_suite(warehouse, answers_suite)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from raw_surveys.survey_questions where question_id = 'q3'")
    again = run_suite(warehouse, answers_suite)
    assert again.reused_validation_id is None
    assert "the question is a question of the survey" in [o.summary for o in again.failed_critical]


def test_an_edited_suite_is_validated_again(warehouse: Path, answers_suite: Suite) -> None:
    run_suite(warehouse, answers_suite)
    kept = [e for e in answers_suite.expectations if e["meta"]["summary"] != "score is an integer from 0 to 10"]
    relaxed = dataclasses.replace(answers_suite, expectations=kept)
    again = run_suite(warehouse, relaxed)
    assert again.reused_validation_id is None and again.success


def test_a_full_validation_never_repeats(warehouse: Path, answers_suite: Suite) -> None:
    run_suite(warehouse, answers_suite)
    assert run_suite(warehouse, answers_suite, full=True).reused_validation_id is None


def test_a_warehouse_from_before_digests_is_migrated_and_validated(warehouse: Path, answers_suite: Suite) -> None:
    with duckdb.connect(str(warehouse)) as connection:  # the tables as an earlier version created them
        connection.execute(
            """
            create schema quality;
            create table quality.suite_validations (
                validation_id varchar not null, suite varchar not null, suite_version integer not null,
                asset varchar not null, run_id varchar, validated_at timestamp not null, scope varchar not null,
                after_load_id varchar, through_load_id varchar, rows_evaluated bigint not null,
                expectations integer not null, failed_critical integer not null, failed_warning integer not null,
                success boolean not null
            );
            insert into quality.suite_validations values
                ('old', 'surveys_answers', 1, 'staging/stg_surveys__answers', null, now()::timestamp, 'table',
                 null, '100.1', 3, 4, 0, 0, true);
            """
        )
    outcome = run_suite(warehouse, answers_suite)
    assert outcome.scope == "table" and outcome.reused_validation_id is None  # no digest: validated
    assert not outcome.success
    assert run_suite(warehouse, answers_suite).reused_validation_id == outcome.validation_id
