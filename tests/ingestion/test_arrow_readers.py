"""Bulk readers: correct tables on good input, located errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.arrow_readers import iter_jsonl, read_csv, read_json_document, read_jsonl
from ingestion.errors import IngestionError

SCHEMA = pa.schema([("id", pa.string()), ("properties", pa.struct([("amount", pa.string())]))])


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def test_reads_known_and_new_properties(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", '{"id":"1","properties":{"amount":"5.00","brand_new":"x"}}\n{"id":"2"}\n')
    table = read_jsonl(path, SCHEMA, ("id",))
    assert table.num_rows == 2
    assert table.column("properties").type.get_field_index("brand_new") >= 0


def test_empty_jsonl_is_zero_rows(tmp_path: Path) -> None:
    assert read_jsonl(_write(tmp_path / "e.jsonl", ""), SCHEMA).num_rows == 0
    [(first, table)] = list(iter_jsonl(_write(tmp_path / "e.jsonl", ""), SCHEMA))
    assert (first, table.num_rows) == (1, 0)


def test_malformed_line_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", '{"id":"1"}\n{"id":"2"}\n{"id": "3", oops}\n')
    with pytest.raises(IngestionError) as error:
        read_jsonl(path, SCHEMA, ("id",))
    assert error.value.line == 3
    assert "bad.jsonl" in str(error.value) and "malformed JSON" in str(error.value)


def test_missing_required_field_names_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.jsonl", '{"id":"1"}\n{"properties":{"amount":"1"}}\n')
    with pytest.raises(IngestionError) as error:
        read_jsonl(path, SCHEMA, ("id",))
    assert (error.value.line, error.value.field) == (2, "id")


def test_type_change_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.jsonl", '{"id":"1","properties":{"amount":"1"}}\n{"id":"2","properties":{"amount":12.5}}\n'
    )
    with pytest.raises(IngestionError) as error:
        read_jsonl(path, SCHEMA, ("id",))
    assert error.value.field == "properties.amount"
    assert error.value.line == 2
    assert "expected string" in str(error.value)


def test_wrong_encoding_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path / "enc.jsonl", b'{"id":"1"}\n{"id":"caf\xe9"}\n')
    with pytest.raises(IngestionError) as error:
        read_jsonl(path, SCHEMA, ("id",))
    assert error.value.line == 2 and "UTF-8" in str(error.value)


def test_wrong_encoding_is_located_when_read_in_blocks(tmp_path: Path) -> None:
    path = _write(tmp_path / "enc.jsonl", b'{"id":"1"}\n{"id":"caf\xe9"}\n')
    with pytest.raises(IngestionError) as error:
        list(iter_jsonl(path, SCHEMA, ("id",)))
    assert error.value.line == 2 and "UTF-8" in str(error.value)


def test_text_beyond_ascii_is_read_in_blocks(tmp_path: Path) -> None:
    path = _write(tmp_path / "utf8.jsonl", '{"id":"1"}\n{"id":"café"}\n'.encode())
    [(first_line, table)] = list(iter_jsonl(path, SCHEMA, ("id",)))
    assert first_line == 1 and table.column("id").to_pylist() == ["1", "café"]


def test_not_an_object_per_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "arr.jsonl", '[{"id":"1"}]\n')
    with pytest.raises(IngestionError, match="line 1"):
        read_jsonl(path, SCHEMA, ("id",))


def test_csv_columns_are_text_and_required_checked(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", "employee_id,quota_amount,extra\n1,100.50,x\n2,,y\n")
    table = read_csv(path, ("employee_id", "quota_amount"), ("employee_id",))
    assert table.schema.field("quota_amount").type == pa.string()
    assert table.column("extra").to_pylist() == ["x", "y"]
    with pytest.raises(IngestionError) as error:
        read_csv(path, ("employee_id", "quota_amount"), ("quota_amount",))
    assert (error.value.line, error.value.field) == (3, "quota_amount")


def test_csv_missing_column_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(IngestionError, match="header lacks column"):
        read_csv(_write(tmp_path / "h.csv", "a,b\n1,2\n"), ("a", "c"))
    with pytest.raises(IngestionError, match="empty file"):
        read_csv(_write(tmp_path / "empty.csv", ""), ("a",))


def test_json_document_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestionError) as error:
        read_json_document(_write(tmp_path / "d.json", '{\n  "employees": [\n    {"id": 1,}\n  ]\n}'))
    assert error.value.line == 3
    with pytest.raises(IngestionError, match="empty file"):
        read_json_document(_write(tmp_path / "e.json", "  "))


def test_blocks_hold_whole_lines_and_number_them_across_the_file(tmp_path: Path) -> None:
    lines = [f'{{"id":"{n}","properties":{{"amount":"{n}.00"}}}}' for n in range(1, 101)]
    path = _write(tmp_path / "big.jsonl", "\n".join(lines))  # no newline after the last line
    blocks = list(iter_jsonl(path, SCHEMA, ("id",), chunk_bytes=200))
    assert len(blocks) > 5
    firsts = [first for first, _ in blocks]
    sizes = [table.num_rows for _, table in blocks]
    assert firsts == [1 + sum(sizes[:i]) for i in range(len(sizes))]
    ids = [i for _, table in blocks for i in table.column("id").to_pylist()]
    assert ids == [str(n) for n in range(1, 101)]
    assert pa.concat_tables([t for _, t in blocks]).equals(read_jsonl(path, SCHEMA))


def test_block_errors_name_the_line_of_the_whole_file(tmp_path: Path) -> None:
    lines = [f'{{"id":"{n}"}}' for n in range(1, 51)]
    lines[40] = '{"properties":{"amount":"1"}}'
    path = _write(tmp_path / "m.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(IngestionError) as error:
        list(iter_jsonl(path, SCHEMA, ("id",), chunk_bytes=100))
    assert (error.value.line, error.value.field) == (41, "id")
    lines[40] = '{"id": "41", oops}'
    path = _write(tmp_path / "b.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(IngestionError) as error:
        list(iter_jsonl(path, SCHEMA, chunk_bytes=100))
    assert error.value.line == 41 and "malformed JSON" in str(error.value)


def test_a_line_longer_than_a_block_and_blank_blocks_are_read_whole(tmp_path: Path) -> None:
    long_line = '{"id":"2","properties":{"amount":"' + "9" * 500 + '"}}'
    text = '{"id":"1"}\n' + long_line + "\n" + "\n" * 300 + '{"id":"3"}'  # no newline at the end
    path = _write(tmp_path / "long.jsonl", text)
    blocks = list(iter_jsonl(path, SCHEMA, ("id",), chunk_bytes=64))
    ids = [i for _, table in blocks for i in table.column("id").to_pylist()]
    assert ids == ["1", "2", "3"]
    assert [first for first, _ in blocks] == [1, 2, 3]  # records are numbered, blank lines are not
    assert blocks[1][1].column("properties").to_pylist()[0]["amount"] == "9" * 500


def test_a_file_closed_before_its_last_block_is_released(tmp_path: Path) -> None:
    lines = [f'{{"id":"{n}"}}' for n in range(1, 200)]
    path = _write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("needs /proc to see the process's memory maps")
    blocks = iter_jsonl(path, SCHEMA, chunk_bytes=100)
    assert next(blocks)[0] == 1
    assert str(path) in maps.read_text()  # read through a memory map
    blocks.close()
    assert str(path) not in maps.read_text()  # which the early close unmapped


def test_a_fraction_where_an_integer_is_declared_names_line_and_field(tmp_path: Path) -> None:
    # Arrow's message for this case ("couldn't parse:7.5") names no field: the line is found anyway
    from ingestion.surveys import ANSWER_SCHEMA

    answer = '{"answer_id": "a%d", "response_id": "r1", "survey_id": "s1", "question_id": "q%d", "score": %s}\n'
    path = tmp_path / "answers.jsonl"
    path.write_text(answer % (1, 1, "7") + answer % (2, 2, "8") + answer % (3, 3, "7.5"))
    with pytest.raises(IngestionError) as error:
        read_jsonl(path, ANSWER_SCHEMA)
    assert str(error.value) == f"file {path}, line 3, field 'score': type changed: expected int64, found float 7.5"
