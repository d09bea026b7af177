"""The surveys source: a pulse-survey tool's response export.

Raw tables in dataset ``raw_surveys``: surveys, survey_questions, responses, answers. The raw
responses carry the respondent's employee id (never published) and ``respondent_key``, the
pseudonym computed here with a key the warehouse does not hold (:mod:`ingestion.pseudonyms`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.items import DataItemWithMeta
from dlt.sources import DltResource

from ingestion.arrow_readers import read_jsonl
from ingestion.arrow_tools import constant, explode, line_numbers, non_nullable
from ingestion.errors import IngestionError
from ingestion.file_state import iter_pending_tables
from ingestion.first_load import END_OF_PAGES, FirstLoad
from ingestion.pseudonyms import respondent_keys
from ingestion.rejects import LINE_COLUMN, Split, rejects_resource, split_rejects, with_line_numbers
from ingestion.resource_hints import MERGE, RAW_SCHEMA_CONTRACT, latest_wins
from ingestion.stale_versions import newer_than_loaded

SYSTEM = "surveys"

_QUESTION = pa.struct([("question_id", pa.string()), ("question_text", pa.string()), ("type", pa.string())])
SURVEY_SCHEMA = pa.schema(
    [
        ("survey_id", pa.string()),
        ("name", pa.string()),
        ("sent_at", pa.string()),
        ("closes_at", pa.string()),
        ("audience", pa.string()),
        ("audience_size", pa.int64()),
        ("questions", pa.list_(_QUESTION)),
    ]
)
RESPONSE_SCHEMA = pa.schema(
    [
        ("response_id", pa.string()),
        ("survey_id", pa.string()),
        ("respondent_employee_id", pa.string()),
        ("submitted_at", pa.string()),
        ("updated_at", pa.string()),
    ]
)
ANSWER_SCHEMA = pa.schema(
    [
        ("answer_id", pa.string()),
        ("response_id", pa.string()),
        ("survey_id", pa.string()),
        ("question_id", pa.string()),
        ("question_text", pa.string()),
        ("score", pa.int64()),
        ("text", pa.string()),
        ("updated_at", pa.string()),
    ]
)


def _with_source(table: pa.Table, source: str) -> pa.Table:
    n = table.num_rows
    table = table.append_column("_source_file", constant(source, n))
    return table if LINE_COLUMN in table.column_names else table.append_column(LINE_COLUMN, line_numbers(n))


def survey_questions(table: pa.Table, source: str) -> pa.Table:
    """One row per question of each survey."""
    questions, parents = explode(table.column("questions"))
    position = pa.array(parents)
    missing = pc.is_null(pc.struct_field(questions, "question_id"))
    if pc.any(missing).as_py():
        row = int(parents[pc.index(missing, True).as_py()])
        raise IngestionError("a question has no question_id", file=source, line=row + 1, field="questions.question_id")
    return non_nullable(
        pa.table(
            {
                "survey_id": pc.take(table.column("survey_id"), position),
                "question_id": pc.struct_field(questions, "question_id"),
                "question_text": pc.struct_field(questions, "question_text"),
                "question_type": pc.struct_field(questions, "type"),
                "_source_file": constant(source, len(questions)),
                "_source_line": pc.add(position, 1),
            }
        ),
        ("survey_id", "question_id"),
    )


@dlt.source(name="surveys", max_table_nesting=0, schema_contract=RAW_SCHEMA_CONTRACT)
def surveys_source(landing_dir: str | Path, pseudonym_key: bytes | None = None) -> list[DltResource]:
    """Pulse surveys, responses and answers from the landing folder (the survey tool's export).

    ``pseudonym_key`` (:func:`ingestion.pseudonyms.pseudonym_key`) keys the respondents'
    pseudonyms; a delivery with responses cannot be loaded without it.
    """
    landing = Path(landing_dir)

    def pseudonymised(table: pa.Table, origin: str) -> pa.Table:
        """Responses with their ``respondent_key``."""
        if pseudonym_key is None:
            raise IngestionError(
                "no pseudonymisation key: set sources.surveys.pseudonym_key in .dlt/secrets.toml", file=origin
            )
        keys = respondent_keys(table.column("survey_id"), table.column("respondent_employee_id"), pseudonym_key)
        return table.append_column("respondent_key", keys)

    @dlt.resource(name="survey_records", selected=False)
    def survey_records() -> Iterator[tuple[str, pa.Table]]:
        for file, table in iter_pending_tables(
            landing, SYSTEM, "surveys", lambda f: read_jsonl(f.path, SURVEY_SCHEMA, ("survey_id", "sent_at"))
        ):
            yield file.relpath, table

    @dlt.transformer(name="surveys", data_from=survey_records, primary_key="survey_id", write_disposition=MERGE)
    def surveys(item: tuple[str, pa.Table]) -> Iterator[pa.Table]:
        origin, table = item
        yield non_nullable(_with_source(table.drop_columns(["questions"]), origin), ("survey_id",))

    @dlt.transformer(
        name="survey_questions",
        data_from=survey_records,
        primary_key=("survey_id", "question_id"),
        merge_key="survey_id",
        write_disposition=MERGE,
    )
    def questions(item: tuple[str, pa.Table]) -> Iterator[pa.Table]:
        origin, table = item
        yield survey_questions(table, origin)

    def export(
        entity: str,
        schema: pa.Schema,
        required: tuple[str, ...],
        derive: Callable[[pa.Table, str], pa.Table] | None = None,
    ) -> list[DltResource]:
        """An answer-level export merged on its first ``required`` field, with its rejects table;
        ``derive`` adds columns to the rows loaded."""
        key = required[0]

        def pages() -> Iterator[tuple[str, Split]]:
            last: Split | None = None
            for file, table in iter_pending_tables(landing, SYSTEM, entity, lambda f: read_jsonl(f.path, schema)):
                last = split_rejects(
                    with_line_numbers(table), key=key, version="updated_at", required=required, source=file.relpath
                )
                yield file.relpath, last
            if last is not None:  # the sign for FirstLoad to decide how the load is written
                yield END_OF_PAGES, Split(last.rows.slice(0, 0), last.rejected.slice(0, 0))

        reader = dlt.resource(pages, name=f"{entity}_pages", selected=False)
        reader.add_map(newer_than_loaded(entity, key=key, version="updated_at"))  # older versions never overwrite

        # A first load of the export appends instead of merging when no key repeats (first_load.py).
        first_load = FirstLoad(entity, (key,))

        def rows(item: tuple[str, Split]) -> Iterator[pa.Table | DataItemWithMeta]:
            origin, split = item
            rows = split.rows if derive is None else derive(split.rows, origin)
            yield first_load.item(origin, non_nullable(_with_source(rows, origin), (key,)))

        table = dlt.transformer(
            rows, name=entity, data_from=reader, primary_key=key, write_disposition=MERGE, columns=latest_wins()
        )
        return [table, rejects_resource(entity, reader)]

    return [
        surveys,
        questions,
        *export("responses", RESPONSE_SCHEMA, ("response_id", "survey_id"), pseudonymised),
        *export("answers", ANSWER_SCHEMA, ("answer_id", "response_id", "question_id")),
    ]
