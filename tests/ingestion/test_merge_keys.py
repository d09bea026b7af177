"""dlt deletes a merged table's rows by the merge key alone when it lies within the primary key."""

from __future__ import annotations

from dlt.destinations.sql_jobs import SqlMergeFollowupJob

from ingestion.merge_keys import implied_by_merge_key, install


def _delete_clauses(primary_keys: list[str], merge_keys: list[str]) -> list[str]:
    return SqlMergeFollowupJob.gen_key_table_clauses("raw.t", "staging.t", primary_keys, merge_keys, for_delete=True)


def test_history_rows_are_deleted_by_the_deal_alone() -> None:
    assert install()
    assert install()  # a second install keeps the one change
    (clause,) = _delete_clauses(["deal_id", "changed_at", "value"], ["deal_id"])
    assert " OR " not in clause and "d.deal_id = s.deal_id" in clause
    assert "changed_at" not in clause


def test_other_key_combinations_are_left_as_dlt_writes_them() -> None:
    install()
    (both,) = _delete_clauses(["id"], ["region"])
    assert " OR " in both and "d.id = s.id" in both and "d.region = s.region" in both
    (primary,) = _delete_clauses(["id"], [])
    assert "d.id = s.id" in primary
    # a merge key with a column outside the primary key does not imply a primary-key match
    assert not implied_by_merge_key(["deal_id", "value"], ["deal_id", "pipeline"])
    assert implied_by_merge_key(["survey_id", "question_id"], ["survey_id"])
    assert not implied_by_merge_key([], ["survey_id"])
