"""``--format tardis``: Tardis.dev ``incremental_book_L2`` CSV, and ``book_snapshot_N`` as a reference.

``incremental_book_L2`` (Tardis docs, "Downloadable CSV files"): header
``exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount``, one row per changed
price level, ``amount`` the level's new aggregate size (0 removes it), timestamps in µs since the
epoch (``timestamp`` exchange time, ``local_timestamp`` Tardis receive time). ``is_snapshot`` rows
are part of an order-book snapshot; a snapshot appearing after live rows means the connection was
re-established and the book must be rebuilt from it.

Normalized events (one stream per exchange + symbol) come from the one L2 path
(:class:`~obrecon_pipeline.feeds.l2.messages.BookMessages`, :func:`read_book_messages`): every row is
a ``SET_LEVEL``. A snapshot (a run of consecutive ``is_snapshot`` rows) resets each side of the
book: a ``CLEAR`` of the bid side and one of the ask side, flagged ``SNAPSHOT``, precede its first
row (both sides, so a side the snapshot does not list is empty afterwards, not stale), and its rows
are flagged ``SNAPSHOT``; a snapshot row dated apart from the others is counted
(``snapshot_rows_misdated``), never splits the snapshot. Live rows are batched by timestamp: the
last row of each run of equal ``timestamp`` carries ``END_OF_MESSAGE``. Rows of another symbol are
counted (``other_symbol_rows``); a row of another exchange than the stream's is an error.

``book_snapshot_N``: header ``exchange,symbol,timestamp,local_timestamp`` then, for i = 0..N-1,
``asks[i].price,asks[i].amount,bids[i].price,bids[i].amount`` (empty fields for missing levels).
:func:`read_book_snapshots` turns it into the replayer's cell layout
(:func:`obrecon_pipeline.integrity.snapshots.compare_with_snapshots` checks a replayed book against
it row by row).

All parsing is vectorised in Polars; decimal strings become scaled integers exactly
(:mod:`obrecon_pipeline.feeds.decimals`), one scale per column family (prices, amounts). An
``incremental_book_L2`` file up to :data:`~._io.STREAM_ABOVE` bytes (:func:`~._io.held_bytes`: decompressed, for gzip) is read whole
(:func:`read_book_messages`); a larger one block by block into a spill
(:func:`.tardis_blocks.spilled_book`: the same messages, memory bounded whatever the day's size).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from obrecon_pipeline.codes import NULL_CELL
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds import Feed, held_in, register
from obrecon_pipeline.feeds._io import STREAM_ABOVE, held_bytes, read_bytes, split_lines
from obrecon_pipeline.feeds.decimals import scaled_integers
from obrecon_pipeline.feeds.l2.messages import BookMessages
from obrecon_pipeline.feeds.l2.source import source_opener
from obrecon_pipeline.feeds.tardis_blocks import spilled_book
from obrecon_pipeline.feeds.tardis_rows import (
    INCREMENTAL_COLUMNS, SEQUENCING, exchange_of, fields_table, integers, message_table, numbered, typed_rows)
from obrecon_pipeline.streams import Held, LoadedStream, Stream

SOURCE = "tardis"
#: ``deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv.gz`` (Tardis) or with a ``tardis_`` prefix
_FILE_NAME = re.compile(
    r"^(?:tardis_)?(?P<exchange>[a-z0-9-]+)_(?P<kind>incremental_book_L2|book_snapshot_\d+)_"
    r"(?:(?P<date>\d{4}-\d{2}-\d{2})_)?(?P<symbol>.+?)\.csv(?:\.gz)?$"
)


def read_table(path: str | Path) -> tuple[list[str], pl.DataFrame]:
    """A headed CSV as string columns plus ``src_row`` (1-based file line; the header is line 1).

    Every data line must have as many comma-separated fields as the header.
    """
    path = Path(path)
    data = read_bytes(path)
    if not data.strip():
        raise InputError(path, None, "file is empty")
    lines = split_lines(path, data)
    header = lines[0].split(",")
    table = fields_table(path, lines.slice(1), header, 2)
    if table.height == 0:
        raise InputError(path, None, "no data rows after the header")
    return header, table


def read_book_messages(path: str | Path, symbol: str | None = None, exchange: str | None = None) -> BookMessages:
    """One symbol of an ``incremental_book_L2`` file as the L2 path's :class:`BookMessages`.

    Messages: a snapshot is a run of consecutive ``is_snapshot`` rows (its time is the latest of
    its rows; rows dated differently are counted in ``snapshot_rows_misdated``, never split off),
    a live update the run of consecutive live rows with one ``timestamp``. ``symbol`` may be
    omitted when the file holds a single symbol; rows of other symbols are counted
    (``other_symbol_rows``, the first located in ``other_symbol_first``). ``exchange``: the
    exchange the stream belongs to; a row of another is an error.
    """
    path = Path(path)
    header, table = read_table(path)
    if tuple(header) != INCREMENTAL_COLUMNS:
        raise InputError(path, 1, f"header {','.join(header)!r} is not {','.join(INCREMENTAL_COLUMNS)!r}")
    if exchange is not None:
        exchange_of(path, table, exchange)
    present = table["symbol"].unique(maintain_order=True).to_list()
    if symbol is None:
        if len(present) != 1:
            raise InputError(path, None, f"the file holds symbols {present}: choose one")
        symbol = present[0]
    others = table.filter(pl.col("symbol") != symbol)
    table = table.filter(pl.col("symbol") == symbol)
    if table.height == 0:
        raise InputError(path, None, f"no rows for symbol {symbol!r}; present: {present}")
    rows = numbered(typed_rows(path, table))
    messages = message_table(rows)
    book = BookMessages(symbol, SEQUENCING, clear="sides", names=("price", "amount"))
    book.add_tables(
        [str(path)],
        messages.with_columns(file=pl.lit(0, pl.Int64), first=None, last=None, prev=None, checksum=None),
        rows.select("msg", "side", "src_row", price_text="price", size_text="amount"),
    )
    book.stats["snapshot_rows_misdated"] = int(messages.filter("snapshot")["misdated"].sum())
    book.stats["other_symbol_rows"] = others.height
    if others.height:
        book.stats["other_symbol_first"] = f"{path}, row {others['src_row'][0]}: symbol {others['symbol'][0]!r}"
    return book


def read_incremental(path: str | Path, symbol: str | None = None) -> pl.DataFrame:
    """Normalized events of one symbol of an ``incremental_book_L2`` file (see the module doc)."""
    return read_book_messages(path, symbol).events()[0]


@dataclass
class BookSnapshots:
    """A ``book_snapshot_N`` file as the replayer's cells (level i: bid px, bid sz, ask px, ask sz)."""

    path: Path
    exchange: str
    symbol: str
    depth: int
    ts_event: np.ndarray  #: int64 ns (``timestamp``)
    ts_recv: np.ndarray  #: int64 ns (``local_timestamp``)
    src_row: np.ndarray  #: 1-based file line of each snapshot
    cells: np.ndarray  #: int64[rows, 4*depth], NULL for an empty level
    price_scale: int
    size_scale: int


def read_book_snapshots(path: str | Path) -> BookSnapshots:
    """Parse a ``book_snapshot_N`` CSV (one symbol) into integer cells with their own scales."""
    path = Path(path)
    header, table = read_table(path)
    depth = (len(header) - 4) // 4
    expected = ["exchange", "symbol", "timestamp", "local_timestamp"] + [
        f"{side}[{i}].{field}" for i in range(depth) for side in ("asks", "bids") for field in ("price", "amount")
    ]
    if depth < 1 or header != expected:
        raise InputError(path, 1, "header is not a book_snapshot_N header (exchange,symbol,timestamp,local_timestamp,asks[0].price,...)")
    present = table.select("exchange", "symbol").unique()
    if present.height != 1:
        raise InputError(path, None, f"one exchange and symbol per file expected, found {present.rows()}")
    ts = integers(path, table, "timestamp")
    local_ts = integers(path, table, "local_timestamp")
    # long form: one row per (snapshot row, level, side) with both fields, to scale each family at once
    long = pl.concat(
        [
            table.select(
                "src_row",
                pl.lit(i).alias("level"),
                pl.lit(k).alias("field"),
                pl.col(f"{side}[{i}].price").alias("price"),
                pl.col(f"{side}[{i}].amount").alias("amount"),
            )
            for i in range(depth)
            for k, side in ((0, "bids"), (2, "asks"))
        ]
    ).with_columns(
        row=pl.int_range(pl.len()).over("level", "field"),
    )
    half = long.filter((pl.col("price") == "") != (pl.col("amount") == ""))
    if half.height:
        raise InputError(path, int(half["src_row"][0]), "a level has a price without an amount or the reverse")
    filled = long.filter(pl.col("price") != "")
    prices, price_dec = scaled_integers(filled["price"], path=path, rows=filled["src_row"], what="price")
    amounts, size_dec = scaled_integers(filled["amount"], path=path, rows=filled["src_row"], what="amount")
    cells = np.full((table.height, 4 * depth), NULL_CELL, dtype=np.int64)
    r = filled["row"].to_numpy()
    c = filled["level"].to_numpy() * 4 + filled["field"].to_numpy()
    cells[r, c] = prices.to_numpy()
    cells[r, c + 1] = amounts.to_numpy()
    exchange, symbol = present.row(0)
    return BookSnapshots(
        path=path,
        exchange=exchange,
        symbol=symbol,
        depth=depth,
        ts_event=ts.to_numpy() * 1000,
        ts_recv=local_ts.to_numpy() * 1000,
        src_row=table["src_row"].to_numpy(),
        cells=cells,
        price_scale=10**price_dec,
        size_scale=10**size_dec,
    )


def _head(path: Path) -> tuple[list[str], list[str]]:
    """The header and the first data row's fields (reads two lines, not the file)."""
    open_file = gzip.open if path.suffix == ".gz" else open
    try:
        with open_file(path, "rt", encoding="ascii", newline="") as fh:
            header = fh.readline().rstrip("\r\n").split(",")
            fields = fh.readline().rstrip("\r\n").split(",")
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(path, 1, f"not a readable Tardis CSV ({exc})") from None
    return header, fields


def _first_day(path: Path) -> str:
    """UTC date of the first data row's ``timestamp``."""
    _, fields = _head(path)
    try:
        return str(np.datetime64(int(fields[2]), "us").astype("datetime64[D]"))
    except (IndexError, ValueError) as exc:
        raise InputError(path, 2, f"no readable timestamp in the first data row ({exc})") from None


def identify(path: Path) -> dict[str, str | None]:
    """``kind`` (``incremental_book_L2`` / ``book_snapshot_N``), ``exchange``, ``symbol`` and ``date``
    of a Tardis file: from its name as Tardis names a download, otherwise from its content (the
    header says the kind, the first data row the exchange and symbol; the date is then unknown)."""
    m = _FILE_NAME.match(path.name)
    if m is not None:
        return {k: m[k] for k in ("kind", "exchange", "symbol", "date")}
    header, fields = _head(path)
    if tuple(header) == INCREMENTAL_COLUMNS:
        kind = "incremental_book_L2"
    elif header[:4] == ["exchange", "symbol", "timestamp", "local_timestamp"] and len(header) > 4 and (len(header) - 4) % 4 == 0:
        kind = f"book_snapshot_{(len(header) - 4) // 4}"
    else:
        raise InputError(path, 1, "neither a Tardis file name (<exchange>_incremental_book_L2_... or "
                                  "_book_snapshot_N_...) nor a Tardis incremental_book_L2 / book_snapshot_N header")
    if len(fields) < 2 or not fields[0] or not fields[1]:
        raise InputError(path, 2, "the first data row names no exchange and symbol")
    return {"kind": kind, "exchange": fields[0], "symbol": fields[1], "date": None}


def _streams(paths: list[Path], day: str | None) -> list[Stream]:
    """One stream (``<exchange>-<symbol>``) per ``incremental_book_L2`` file (Tardis writes one
    symbol per file; exchange and symbol come from the file name, or from the content of a file
    not named as downloaded, :func:`identify`); its files are that file then the
    ``book_snapshot_N`` files of the same exchange and symbol.

    ``day`` None: the date in the file name, else the UTC date of the first row's ``timestamp``.
    """
    named = [(path, identify(path)) for path in paths]
    streams = []
    for path, m in named:
        if m["kind"] != "incremental_book_L2":
            continue
        refs = tuple(p for p, r in named if r["kind"] != m["kind"] and (r["exchange"], r["symbol"]) == (m["exchange"], m["symbol"]))
        stream_day = day or m["date"] or _first_day(path)
        streams.append(Stream(SOURCE, f"{m['exchange']}-{m['symbol']}", stream_day, (path, *refs), m["symbol"]))
    return streams


def holds(path: Path, day: str) -> list[Held]:
    """The stream of an ``incremental_book_L2`` file, from its name alone (a ``book_snapshot_N``
    file holds none: it is the reference of the stream named for the same exchange and symbol)."""
    m = _FILE_NAME.match(path.name)
    if m is None or m["kind"] != "incremental_book_L2":
        return []
    return [Held(f"{m['exchange']}-{m['symbol']}", m["symbol"])]


def assemble(day: str, holdings: dict[Path, list[Held]]) -> list[Stream]:
    """The day's streams (see :func:`_streams`; names alone, so nothing is read)."""
    return _streams([p for p in holdings if _FILE_NAME.match(p.name)], day)


def discover(day_dir: Path, day: str) -> list[Stream]:
    """The streams of the Tardis files in a ``raw/tardis/<day>/`` folder (see :func:`_streams`)."""
    return assemble(day, held_in(day_dir, day, holds))


def from_files(paths: list[Path]) -> list[Stream]:
    """``INCREMENTAL_CSV [BOOK_SNAPSHOT_CSV ...]`` from the command line."""
    return _streams([Path(p) for p in paths], None)


def stream_messages(stream: Stream) -> BookMessages:
    """A stream's book messages (the one L2 path's input); every row must be of its exchange. A
    file above :data:`STREAM_ABOVE` bytes (:func:`held_bytes`) streams from a spill
    (:func:`.tardis_blocks.spilled_book`); when that pass meets bad input the whole-day reader
    reads the file again, so that the error is the one it names (the first bad row of the file
    for the first rule broken, :func:`read_book_messages`)."""
    path = Path(stream.files[0])
    exchange = identify(path)["exchange"]
    if path.is_file() and held_bytes(path) > STREAM_ABOVE:
        try:
            return spilled_book(path, stream.symbol, exchange)
        except InputError:
            pass
    return read_book_messages(path, stream.symbol, exchange)


def load(stream: Stream) -> LoadedStream:
    return stream_messages(stream).to_loaded(stream)


def reference_snapshots(stream: Stream) -> list[BookSnapshots]:
    """The ``book_snapshot_N`` files given with a stream, parsed (references matched by time)."""
    return [read_book_snapshots(path) for path in stream.files[1:]]


FEED = register(Feed(SOURCE, discover, load, from_files, reference_snapshots,
                     open=source_opener(stream_messages), holds=holds, assemble=assemble))
