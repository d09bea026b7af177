"""The Parquet load files dlt writes for Arrow items: no statistics, a small dictionary page."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.load_files import DICTIONARY_PAGE_LIMIT, LoadOnceParquetWriter
from ingestion.pipelines import make_pipeline, make_source


def _extracted_parquet_files(pipeline_dir: Path) -> list[Path]:
    return sorted(path for path in pipeline_dir.rglob("*.parquet") if path.is_file())


def test_dlt_writes_arrow_items_with_the_load_once_writer(tiny_landing: Path, tmp_path: Path) -> None:
    pipeline = make_pipeline("crm", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "pipelines")
    pipeline.extract(make_source("crm", tiny_landing))
    files = _extracted_parquet_files(tmp_path / "pipelines")
    calls = [path for path in files if path.name.startswith("calls.")]
    assert calls, f"no calls load file among {[path.name for path in files]}"
    metadata = pq.ParquetFile(calls[0]).metadata
    assert metadata.num_rows > 0
    row_group = metadata.row_group(0)
    columns = [row_group.column(i) for i in range(row_group.num_columns)]
    # the stock writer sets statistics on every column; this one on none
    assert not any(column.is_stats_set for column in columns)
    # a column of one repeated value (the load id) is still dictionary-encoded
    load_id = next(column for column in columns if column.path_in_schema == "_dlt_load_id")
    assert "RLE_DICTIONARY" in load_id.encodings or "PLAIN_DICTIONARY" in load_id.encodings


def test_high_cardinality_columns_fall_back_to_plain_early(tmp_path: Path) -> None:
    rows = 50_000
    table = pa.table({"id": [f"id-{i:09d}" for i in range(rows)], "status": ["DONE", "OPEN"] * (rows // 2)})
    path = tmp_path / "f.parquet"
    with path.open("wb") as f:
        writer = LoadOnceParquetWriter(f)
        writer.write_header({})
        writer.write_data([table])
        writer.write_footer()
        writer.close()
    row_group = pq.ParquetFile(path).metadata.row_group(0)
    ids, status = row_group.column(0), row_group.column(1)
    # ids: a dictionary page of at most the limit, then plain pages (the stock 1 MB page holds
    # all 50,000 ids, about 650 KB); the two statuses stay dictionary-encoded
    assert ids.dictionary_page_offset is not None
    assert ids.data_page_offset - ids.dictionary_page_offset <= DICTIONARY_PAGE_LIMIT + 1024
    assert "RLE_DICTIONARY" in status.encodings
    assert pq.read_table(path).equals(table)
