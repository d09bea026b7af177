"""dlt's merge deletes by the merge key alone when the merge key lies within the primary key.

A merged table with both keys (``deal_stage_history``: primary key deal, time and stage, merge key
deal; ``survey_questions``: survey and question, merge key survey) has its stored rows deleted
where the staged rows match on the primary key *or* on the merge key. dlt writes that as one
``EXISTS (... WHERE pk-match OR mk-match)``. DuckDB cannot hash-join a disjunction, so it tests
every stored row against the staged ones: on the large company's day, deleting the histories of
11,711 reloaded deals from 4.1 M rows took 0.9-1.1 s of a 1.5 s CRM load; on the merge key alone,
0.035 s.

When every merge key column is also a primary key column, a primary-key match implies a
merge-key match, so the disjunction is the merge-key condition: :func:`install` makes dlt's key
clauses drop the primary-key clause then (the rows deleted are the same), and leaves every other
combination as dlt writes it. ``tests/ingestion/test_merge_keys.py`` fails if a dlt upgrade
bypasses it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from dlt.destinations.sql_jobs import SqlMergeFollowupJob

_MARKER = "_spm_merge_key_within_primary_key"


def implied_by_merge_key(primary_keys: Sequence[str], merge_keys: Sequence[str]) -> bool:
    """Whether a match on ``merge_keys`` already holds for every match on ``primary_keys``."""
    return bool(primary_keys) and bool(merge_keys) and set(merge_keys) <= set(primary_keys)


def install() -> bool:
    """Narrow dlt's delete keys as described above (idempotent).

    Returns whether the change is in place (False if dlt no longer has the classmethod this relies
    on: dlt then deletes as it always did, slower but with the same result).
    """
    current = SqlMergeFollowupJob.__dict__.get("_gen_key_table_clauses")
    if not isinstance(current, classmethod):
        return False
    original: Callable[..., list[str]] = current.__func__
    if getattr(original, _MARKER, False):
        return True

    @functools.wraps(original)
    def _gen_key_table_clauses(cls: Any, primary_keys: Sequence[str], merge_keys: Sequence[str]) -> list[str]:
        if implied_by_merge_key(primary_keys, merge_keys):
            return original(cls, [], merge_keys)
        return original(cls, primary_keys, merge_keys)

    setattr(_gen_key_table_clauses, _MARKER, True)
    SqlMergeFollowupJob._gen_key_table_clauses = classmethod(_gen_key_table_clauses)  # type: ignore[method-assign]
    return True
