"""Survey respondents cannot be re-identified from what a run leaves behind.

The small company is built by `spm run`, as a user runs it, with no key configured: the run
generates one beside the warehouse. Then the attacks a reader of the marts would try:
- the join attack: hash every employee id of dim_reps the ways a salted or unsalted hash could
  have been made, with the old default salt, and look for the results among the respondent keys;
- the key itself anywhere but its own file: view SQL, dbt's compiled SQL and artefacts, dlt's
  working folder, Dagster's storage, logs, the serving file;
- the small-group attack: any attribute of the answer-level fact that splits a wave into groups
  under the minimum size, or a respondent followed from one wave to the next.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.pseudonyms import key_file
from tests.conftest import TEST_PSEUDONYM_KEY_VARIABLE
from tests.small_company import small_landing

BIN = Path(sys.executable).parent
MIN_GROUP = 5
#: Columns of fct_survey_responses that are answers, question or the pseudonym, not attributes.
NOT_ATTRIBUTES = {
    "answer_key",
    "respondent_key",
    "question_id",
    "question_text",
    "score",
    "is_enps_question",
    "enps_category",
    "has_comment",
}


@pytest.fixture(scope="module")
def built(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of `spm run` on the small company, with the key the run generated."""
    landing = small_landing(tmp_path_factory)
    data = tmp_path_factory.mktemp("privacy") / "data"
    env = {**os.environ, "SPM_DATA_DIR": str(data)}
    for name in (TEST_PSEUDONYM_KEY_VARIABLE, "SPM_WAREHOUSE", "DAGSTER_HOME"):
        env.pop(name, None)
    run = subprocess.run(
        [str(BIN / "spm"), "run", "--landing", str(landing), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return data


def test_the_generated_key_is_beside_the_warehouse_and_private(built: Path) -> None:
    key = key_file(built / "warehouse.duckdb")
    assert len(key.read_text().strip()) == 64
    assert key.stat().st_mode & 0o077 == 0, "readable by its owner only"


def test_no_employee_id_hashes_to_a_respondent_key(built: Path) -> None:
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as connection:
        respondents = connection.execute("select count(distinct respondent_key) from marts.fct_survey_responses")
        assert respondents.fetchone()[0] >= 30
        matches = connection.execute(
            """
            with ids as (select distinct employee_id from marts.dim_reps where employee_id is not null),
            waves as (select distinct survey_id from marts.fct_survey_responses),
            candidates as (
                select sha256(salt || employee_id) as guess from ids,
                    (values (''), ('spm-default-salt')) as salts(salt)
                union all select md5(employee_id) from ids
                union all select sha256(employee_id || salt) from ids,
                    (values (''), ('spm-default-salt')) as salts(salt)
                union all select sha256(survey_id || employee_id) from ids, waves
                union all select sha256(survey_id || chr(31) || employee_id) from ids, waves
            )
            select count(*) from marts.fct_survey_responses
            where respondent_key in (select guess from candidates)
            """
        ).fetchone()[0]
    assert matches == 0


def test_the_key_is_nowhere_but_its_file(built: Path) -> None:
    key = key_file(built / "warehouse.duckdb")
    secret = key.read_text().strip()
    found = []
    for path in built.rglob("*"):
        if path.is_file() and path != key and secret.encode() in path.read_bytes():
            found.append(str(path.relative_to(built)))
    assert found == []
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as connection:
        views = connection.execute("select count(*) from duckdb_views() where sql like '%' || ? || '%'", [secret])
        assert views.fetchone()[0] == 0
        assert connection.execute("select count(*) from duckdb_views() where sql ilike '%sha256%'").fetchone()[0] == 0


def test_no_attribute_of_an_answer_narrows_a_group_below_the_minimum(built: Path) -> None:
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as connection:
        columns = [
            row[0]
            for row in connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'fct_survey_responses'"
            ).fetchall()
        ]
        attributes = [column for column in columns if column not in NOT_ATTRIBUTES]
        assert {"survey_id", "sent_date"} <= set(attributes)
        assert not {"team_name", "territory_code", "region", "answer_id", "response_id"} & set(columns)
        for attribute in attributes:
            smallest = connection.execute(
                f"select min(respondents) from (select {attribute}, count(distinct respondent_key) as respondents "
                f"from marts.fct_survey_responses group by {attribute})"
            ).fetchone()[0]
            assert smallest >= MIN_GROUP, attribute
        # the staging answers hold waves the fact leaves out only when they are too small
        waves = connection.execute("select count(distinct survey_id) from marts.fct_survey_responses").fetchone()[0]
        assert waves >= 2


def test_a_respondent_cannot_be_followed_from_wave_to_wave(built: Path) -> None:
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as connection:
        across = connection.execute(
            "select count(*) from (select respondent_key from marts.fct_survey_responses "
            "group by respondent_key having count(distinct survey_id) > 1)"
        ).fetchone()[0]
        people = connection.execute(
            "select count(*) from (select respondent_employee_id from staging.stg_surveys__responses "
            "group by respondent_employee_id having count(distinct survey_id) > 1)"
        ).fetchone()[0]
    assert people > 0, "the company has people who answered several waves"
    assert across == 0


def test_the_serving_file_has_no_answer_level_table(built: Path) -> None:
    with duckdb.connect(str(built / "serving.duckdb"), read_only=True) as connection:
        tables = {
            (schema, name)
            for schema, name in connection.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        }
    assert ("marts", "fct_survey_responses") not in tables
    assert not {schema for schema, _ in tables} & {"intermediate", "staging", "raw_surveys"}
