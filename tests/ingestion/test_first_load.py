"""Whether a run's keys repeat: with an empty raw table, that decides if a load may append."""

import pyarrow as pa

from ingestion.first_load import KeysSeen, key_column


def test_keys_distinct_across_batches() -> None:
    keys = KeysSeen()
    assert keys.all_distinct()  # nothing written
    keys.add(pa.array(["1", "2"]))
    keys.add(pa.chunked_array([["3"], ["4", "5"]]))
    assert keys.all_distinct()


def test_a_key_repeated_in_a_later_batch_is_seen() -> None:
    keys = KeysSeen()
    keys.add(pa.array(["1", "2"]))
    keys.add(pa.array(["3", "2"]))
    assert not keys.all_distinct()


def test_keys_in_id_order_need_no_count_and_others_are_counted() -> None:
    keys = KeysSeen()
    keys.add(pa.array(["1", "2"]))
    keys.add(pa.array(["2", "3"]))  # the next batch starts at the last key: a repeat at the seam
    assert not keys.all_distinct()
    keys.forget()
    keys.add(pa.array(["5", "1"]))  # out of order but distinct: counted
    keys.add(pa.array(["3"]))
    assert keys.all_distinct()


def test_null_keys_are_not_declared_unique() -> None:
    keys = KeysSeen()
    keys.add(pa.array(["1", None, None]))
    assert not keys.all_distinct()


def test_numbers_and_text_compare_as_text() -> None:
    keys = KeysSeen()
    keys.add(pa.array([1, 2], pa.int64()))
    keys.add(pa.array(["2"]))
    assert not keys.all_distinct()


def test_only_the_unused_sort_hint_warning_of_an_appended_table_is_dropped() -> None:
    import io
    import logging

    logger, buffer = logging.getLogger("dlt"), io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger.addHandler(handler)
    try:
        logger.warning(
            'The "dedup_sort" column hint for column "updated_at" in table "calls" with write disposition '
            '"append" in schema "crm" will be ignored.'
        )
        logger.warning('The "dedup_sort" column hint for column "v" in table "t" with write disposition "replace"')
    finally:
        logger.removeHandler(handler)
    assert buffer.getvalue().splitlines() == [
        'The "dedup_sort" column hint for column "v" in table "t" with write disposition "replace"'
    ]


def test_forgotten_keys_start_afresh() -> None:
    keys = KeysSeen()
    keys.add(pa.array(["1", "1"]))
    keys.forget()
    keys.add(pa.array(["1"]))
    assert keys.all_distinct()


def test_keys_of_several_columns_compare_whole() -> None:
    keys = KeysSeen()
    rows = pa.table({"deal": ["1", "1", "12"], "stage": ["a", "b", "a"], "at": ["t", "t", "t"]})
    keys.add(key_column(rows, ("deal", "stage", "at")))
    assert keys.all_distinct()
    keys.add(key_column(pa.table({"deal": ["1"], "stage": ["b"], "at": ["t"]}), ("deal", "stage", "at")))
    assert not keys.all_distinct()
