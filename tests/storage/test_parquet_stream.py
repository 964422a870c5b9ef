"""The streamed Parquet writer: the file equals one written whole, on real book rows; resuming
after a kill gives the same bytes; any reader (pyarrow, Polars, DuckDB) reads it."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from obrecon_pipeline.feeds.lobster import load_files
from obrecon_pipeline.pipeline import replay_stream
from obrecon_pipeline.storage import thrift
from obrecon_pipeline.storage.parquet import ParquetStream
from tests.conftest import LOBSTER_DAY

AAPL10 = "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"


@pytest.fixture(scope="module")
def book() -> pa.Table:
    """The replayed AAPL level-10 cut: 999 rows of the public book schema."""
    return replay_stream("lobster", load_files(LOBSTER_DAY / AAPL10), 10).result.book.to_arrow()


def blocks(table: pa.Table, size: int) -> list[pa.Table]:
    return [table.slice(i, size) for i in range(0, table.num_rows, size)]


@pytest.mark.parametrize("workers", [0, 2])
def test_blocks_become_row_groups_of_one_file(tmp_path, book, workers):
    out = ParquetStream(tmp_path / "book.parquet", book.schema, workers=workers)
    for block in blocks(book, 128):
        out.write(block)
    assert out.close() == tmp_path / "book.parquet"
    meta = pq.read_metadata(tmp_path / "book.parquet")
    assert (meta.num_rows, meta.num_row_groups) == (999, 8)
    assert [meta.row_group(i).num_rows for i in range(8)] == [128] * 7 + [103]
    assert pq.read_table(tmp_path / "book.parquet").equals(book)
    assert pl.read_parquet(tmp_path / "book.parquet").equals(pl.from_arrow(book))
    (total,) = duckdb.sql(f"select count(*), sum(bid_size_1), max(seq) from '{tmp_path / 'book.parquet'}'").fetchall()
    assert total == (999, pl.from_arrow(book)["bid_size_1"].sum(), 998)
    assert not (tmp_path / ".book.parquet.partial").exists()
    # min/max statistics kept on the columns readers filter by, not on the level columns
    rg = meta.row_group(1)
    assert rg.column(book.schema.get_field_index("seq")).statistics.min == 128
    assert rg.column(book.schema.get_field_index("bid_price_1")).statistics is None


def test_empty_stream_is_an_empty_table(tmp_path, book):
    ParquetStream(tmp_path / "empty.parquet", book.schema).close()
    back = pq.read_table(tmp_path / "empty.parquet")
    assert back.num_rows == 0 and back.schema.equals(book.schema)


def test_resume_after_kill_gives_the_same_bytes(tmp_path, book):
    whole = ParquetStream(tmp_path / "whole.parquet", book.schema, workers=0)
    for block in blocks(book, 100):
        whole.write(block)
    whole.close()

    # a writer that saved its state after 4 blocks, wrote 2 more and was then killed
    script = f"""
import json, sys, pyarrow.parquet as pq
from obrecon_pipeline.storage.parquet import ParquetStream
from tests.conftest import LOBSTER_DAY
book = pq.read_table({str(tmp_path / 'whole.parquet')!r})
out = ParquetStream({str(tmp_path / 'resumed.parquet')!r}, book.schema, workers=0)
for i in range(4):
    out.write(book.slice(100 * i, 100))
print(json.dumps(out.state()), flush=True)
for i in range(4, 6):
    out.write(book.slice(100 * i, 100))
out.flush()
import os, signal; os.kill(os.getpid(), signal.SIGKILL)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == -9
    import json
    state = json.loads(run.stdout.strip().splitlines()[-1])
    partial = tmp_path / ".resumed.parquet.partial"
    assert partial.stat().st_size > state["length"]  # the two blocks after the state were written
    assert not (tmp_path / "resumed.parquet").exists()

    out = ParquetStream(tmp_path / "resumed.parquet", book.schema, workers=0, resume=state)
    for block in blocks(book, 100)[4:]:
        out.write(block)
    out.close()
    assert (tmp_path / "resumed.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()


def test_abort_leaves_the_previous_file(tmp_path, book):
    dest = tmp_path / "book.parquet"
    dest.write_bytes(b"previous")
    out = ParquetStream(dest, book.schema)
    out.write(book.slice(0, 10))
    out.abort()
    assert dest.read_bytes() == b"previous"
    assert not (tmp_path / ".book.parquet.partial").exists()


def test_files_follow_the_umask(tmp_path, book):
    old = os.umask(0o022)
    try:
        ParquetStream(tmp_path / "book.parquet", book.schema).close()
    finally:
        os.umask(old)
    assert (tmp_path / "book.parquet").stat().st_mode & 0o777 == 0o644


def test_thrift_round_trip_of_a_real_footer(book):
    sink = pa.BufferOutputStream()
    pq.write_table(book, sink, row_group_size=300)
    data = sink.getvalue().to_pybytes()
    n = int.from_bytes(data[-8:-4], "little")
    footer = data[-8 - n:-8]
    fields = thrift.decode(footer)
    assert thrift.encode(fields) == footer
    assert thrift.get(fields, 3).value == 999  # FileMetaData.num_rows
    with pytest.raises(thrift.ThriftError):
        thrift.decode(footer[:-3])
