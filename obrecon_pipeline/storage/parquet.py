"""One Parquet file written a row group at a time, resumable after a kill, renamed into place at the end.

Each block of rows is encoded on its own by pyarrow as a one-row-group Parquet file in memory (in a
worker thread: pyarrow releases the GIL while it encodes and compresses, so encoding overlaps the
work that produces the next block; :meth:`ParquetStream.submit` builds the table there too, which
is where a run's Float64 conversion of the book goes). The column chunks of that small file, the bytes between its
leading ``PAR1`` magic and its footer, are appended to the output, and its one ``RowGroup`` is
kept with every file offset in it moved by where those bytes landed (Apache Parquet,
"File format": offsets in ``ColumnChunk``/``ColumnMetaData``/``RowGroup`` are absolute positions in
the file), encoded again once (a day of 763 row groups kept as decoded fields cost a pure-Python
encoding of all of them at every checkpoint, and the cyclic collector walked their objects). :meth:`ParquetStream.close` writes one footer holding all the row groups, then renames
the temporary file over the destination, so the destination is either the previous file or the
complete new one.

:meth:`ParquetStream.state` is the file length and the row groups written so far (JSON-able); a
writer killed at any moment is continued from the last state saved (``ParquetStream(…, resume=state)``):
the temporary file is cut back to that length and writing goes on, so the finished file is the
one an uninterrupted writer would have produced, byte for byte (given the same blocks).

Files are created with the process umask (mode ``0o666 & ~umask``), like any file a user writes.
"""

from __future__ import annotations

import base64
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from obrecon_pipeline.storage import thrift

MAGIC = b"PAR1"

# parquet.thrift field ids
_FMD_NUM_ROWS, _FMD_ROW_GROUPS = 3, 4
_RG_COLUMNS, _RG_NUM_ROWS, _RG_FILE_OFFSET, _RG_ORDINAL = 1, 3, 5, 7
_CC_FILE_OFFSET, _CC_META, _CC_OFFSET_INDEX, _CC_COLUMN_INDEX = 2, 3, 4, 6
_CMD_DATA_PAGE, _CMD_INDEX_PAGE, _CMD_DICTIONARY_PAGE, _CMD_BLOOM_FILTER = 9, 10, 11, 14


def _shift(fields: list[thrift.Field], ids: tuple[int, ...], by: int) -> None:
    for f in fields:
        if f.id in ids:
            f.value += by


def _row_group_at(row_group: list[thrift.Field], by: int, ordinal: int) -> list[thrift.Field]:
    """A decoded ``RowGroup`` moved ``by`` bytes further into the file, numbered ``ordinal``."""
    _shift(row_group, (_RG_FILE_OFFSET,), by)
    for f in row_group:
        if f.id == _RG_ORDINAL:
            f.value = ordinal
    for chunk in thrift.get(row_group, _RG_COLUMNS).value.items:
        _shift(chunk, (_CC_FILE_OFFSET, _CC_OFFSET_INDEX, _CC_COLUMN_INDEX), by)
        meta = thrift.get(chunk, _CC_META)
        if meta is not None:
            _shift(meta.value, (_CMD_DATA_PAGE, _CMD_INDEX_PAGE, _CMD_DICTIONARY_PAGE, _CMD_BLOOM_FILTER), by)
    return row_group


def _split(encoded: bytes) -> tuple[bytes, bytes]:
    """(column-chunk bytes, encoded footer) of a Parquet file held in memory."""
    if encoded[:4] != MAGIC or encoded[-4:] != MAGIC:
        raise ValueError("not a Parquet file")
    n = int.from_bytes(encoded[-8:-4], "little")
    start = len(encoded) - 8 - n
    return encoded[4:start], encoded[start:-8]


def _create(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.close(fd)


class ParquetStream:
    """Write ``dest`` block by block (see the module docstring).

    ``compression`` and ``statistics`` (the columns that carry min/max statistics, so that readers
    can skip row groups by them) are pyarrow's ``write_table`` options; ``workers`` encoding threads
    (0: encode in the calling thread).
    """

    def __init__(self, dest: str | Path, schema: pa.Schema, *, compression: str = "lz4",
                 statistics: tuple[str, ...] = ("ts_event", "seq"), workers: int = 1,
                 tmp: str | Path | None = None, resume: dict | None = None):
        """``resume``: a :meth:`state` to continue from (its temporary file is cut back to the
        length it records); otherwise a new temporary file (default ``.<dest name>.partial``
        beside ``dest``)."""
        self.dest = Path(dest)
        self.schema = schema
        self._options = dict(compression=compression, use_dictionary=False,
                             write_statistics=[c for c in statistics if c in schema.names])
        self._pool = ThreadPoolExecutor(workers) if workers > 0 else None
        self._pending: list[Future] = []
        #: tables :meth:`write` may still be encoding after it returns
        self.tables_in_flight = 2 * workers
        _, footer = _split(self._encode(pa.Table.from_batches([], schema)))  # (schema.empty_table() imports pandas: 0.5 s)
        self._template = thrift.decode(footer)
        if resume is None:
            self.tmp = Path(tmp) if tmp is not None else self.dest.with_name(f".{self.dest.name}.partial")
            self.tmp.parent.mkdir(parents=True, exist_ok=True)
            _create(self.tmp)
            self._file = open(self.tmp, "r+b")
            self._file.write(MAGIC)
            self._row_groups: list[bytes] = []  # each one encoded
            self.rows = 0
        else:
            self.tmp = Path(resume["tmp"])
            self._file = open(self.tmp, "r+b")
            self._file.truncate(resume["length"])
            self._file.seek(resume["length"])
            (holder,) = thrift.decode(base64.b64decode(resume["row_groups"]))
            self._row_groups = [thrift.encode(group) for group in holder.value.items]
            self.rows = resume["rows"]

    # ------------------------------------------------------------------------------ writing
    def _encode(self, table: pa.Table) -> bytes:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, row_group_size=max(table.num_rows, 1), **self._options)
        return sink.getvalue().to_pybytes()

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (this writer's schema) as one row group."""
        self.submit(lambda: table)

    def submit(self, build: Callable[[], pa.Table]) -> None:
        """Append the table ``build()`` returns as one row group, ``build`` running in the encoding
        thread (so the work that makes the table overlaps the caller's next block too); whatever
        ``build`` reads must stay unchanged until :meth:`flush`."""
        if self._pool is None:
            self._append(self._block(build))
            return
        self._pending.append(self._pool.submit(self._block, build))
        while len(self._pending) > self.tables_in_flight:  # bound memory held in flight
            self._append(self._pending.pop(0).result())

    def _block(self, build: Callable[[], pa.Table]) -> tuple[bytes, list[thrift.Field]] | None:
        """The table ``build()`` returns, encoded: its column-chunk bytes and its decoded row
        group (None: no rows)."""
        table = build()
        if table.num_rows == 0:
            return None
        if not table.schema.equals(self.schema):
            table = table.cast(self.schema)
        data, footer = _split(self._encode(table))
        (row_group,) = thrift.get(thrift.decode(footer), _FMD_ROW_GROUPS).value.items
        return data, row_group

    def _append(self, block: tuple[bytes, list[thrift.Field]] | None) -> None:
        if block is None:
            return
        data, row_group = block
        at = self._file.tell()
        self._file.write(data)
        self._row_groups.append(thrift.encode(_row_group_at(row_group, at - len(MAGIC), len(self._row_groups))))
        self.rows += thrift.get(row_group, _RG_NUM_ROWS).value

    def flush(self) -> None:
        """Finish every block handed to :meth:`write` and push the bytes to the OS."""
        while self._pending:
            self._append(self._pending.pop(0).result())
        self._file.flush()

    # ------------------------------------------------------------------------- resumability
    def state(self) -> dict:
        """Where the file stands (after :meth:`flush`): pass it as ``resume=`` to continue."""
        self.flush()
        os.fsync(self._file.fileno())
        groups = thrift.Seq(thrift.STRUCT, self._row_groups)
        return {
            "tmp": str(self.tmp),
            "length": self._file.tell(),
            "rows": self.rows,
            "row_groups": base64.b64encode(thrift.encode([thrift.Field(1, thrift.LIST, groups)])).decode(),
        }

    # ------------------------------------------------------------------------------ closing
    def close(self) -> Path:
        """Write the footer, fsync, rename over ``dest``; the destination path."""
        self.flush()
        footer = [
            thrift.Field(f.id, f.type, self.rows) if f.id == _FMD_NUM_ROWS
            else thrift.Field(f.id, f.type, thrift.Seq(thrift.STRUCT, self._row_groups)) if f.id == _FMD_ROW_GROUPS
            else f
            for f in self._template
        ]
        encoded = thrift.encode(footer)
        self._file.write(encoded + len(encoded).to_bytes(4, "little") + MAGIC)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._shutdown()
        os.replace(self.tmp, self.dest)
        return self.dest

    def abort(self) -> None:
        """Drop the temporary file (the destination is left as it was)."""
        self._pending.clear()
        self._shutdown()
        if not self._file.closed:
            self._file.close()
        self.tmp.unlink(missing_ok=True)

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
