"""A Tardis ``incremental_book_L2`` file of any size read block by block into a spill
(:func:`spilled_book`): the L2 path's :class:`~.l2.spilled.SpilledBook`, whose memory does not grow
with the day.

The (decompressed) file is cut into blocks of whole lines (:func:`~._blocks.line_spans`,
:data:`BLOCK` bytes at a time); each block's rows are split, checked and typed as the whole-day
reader does (:mod:`.tardis_rows`), its rows of other symbols counted, and its whole messages
parsed: the prices and amounts into exact integers at the block's scale (:func:`~.decimals.scaled_integers`:
``value * 10**d``, ``d`` the most decimals written in the block, kept with each level as its
``decimals``), then appended to a scratch file (:class:`~.spill.Spill`, :data:`MESSAGE_COLUMNS`
and :data:`LEVEL_COLUMNS`). A message is a run of rows (:mod:`.tardis_rows`), so the last one of a
block may go on in the next: its rows are carried over and numbered again with the next block's, and
a message is written only once a row of the next one (or the file's end) closes it. The pass keeps
only the counters (rows of other symbols, the first located; snapshot rows misdated) and, for the
symbol's scales, the largest mantissa per number of decimals (the day's scale ``10**D``, ``D`` the
most decimals of any block, is checked to hold every value in int64 with
:func:`~.l2.messages._fits`, as the whole-day path's :func:`~.decimals.scaled_integers` does).

Any bad input (a rule of :mod:`.tardis_rows` broken, a value that is not a decimal, a negative
amount, a value beyond int64 at the day's scale, another symbol when none was chosen, no row of the
symbol) raises :class:`~obrecon_pipeline.errors.InputError`; :func:`.tardis.stream_messages` then
reads the file whole, which names the error exactly as it always does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds._blocks import RawBlocks, line_spans
from obrecon_pipeline.feeds._io import split_lines
from obrecon_pipeline.feeds.decimals import scaled_integers
from obrecon_pipeline.feeds.l2.messages import MESSAGE_SCHEMA, SCALED_LEVEL_COLUMNS, _fits
from obrecon_pipeline.feeds.l2.spilled import SpilledBook, SpilledColumns
from obrecon_pipeline.feeds.spill import Spill
from obrecon_pipeline.feeds.tardis_rows import (
    INCREMENTAL_COLUMNS, SEQUENCING, exchange_of, fields_table, message_table, numbered, typed_rows)

#: decompressed bytes of CSV read at a time
BLOCK = 16 << 20
#: the messages on disk (file order): snapshot or not, event and receive time (ns), first row, the
#: number of levels and the first level's index in the level columns
MESSAGE_COLUMNS = {"snapshot": np.int8, "ts_event": np.int64, "ts_recv": np.int64, "src_row": np.int64,
                   "count": np.int64, "level_start": np.int64}
#: the levels on disk (a row each, in file order): :data:`SCALED_LEVEL_COLUMNS` and the level's row
LEVEL_COLUMNS = {**SCALED_LEVEL_COLUMNS, "level_row": np.int64}


def _frame(g: dict[str, np.ndarray]) -> pl.DataFrame:
    """Spilled messages (``snapshot``, ``ts_event``, ``ts_recv``, ``src_row``) as
    :data:`MESSAGE_SCHEMA` rows (``file`` 0: the incremental file; no ids)."""
    n = len(g["snapshot"])
    return pl.DataFrame({
        "snapshot": g["snapshot"].astype(bool), "ts_event": g["ts_event"], "ts_recv": g["ts_recv"],
        "file": np.zeros(n, dtype=np.int64), "src_row": g["src_row"],
        **{c: pl.repeat(None, n, dtype=pl.Int64, eager=True) for c in ("first", "last", "prev", "checksum")},
    }, schema=MESSAGE_SCHEMA)


def _line_blocks(path: Path, block_size: int) -> Iterator[tuple[pl.Series, int]]:
    """The file's lines, a block at a time, with the 1-based line of each block's first."""
    blocks = RawBlocks(path, block_size=block_size)
    line = 1
    spans = line_spans(blocks, lambda: line - 1)
    try:
        while (span := spans.span()) is not None:
            buf, start, end = span
            spans.advance(end)
            lines = split_lines(path, bytes(buf[start:end]))
            yield lines, line
            line += lines.len()
    finally:
        blocks.close()


class _Pass:
    """One pass over the file (:func:`spilled_book`): the spill written and what it found out."""

    def __init__(self, path: Path, symbol: str | None, exchange: str | None, spill: Spill):
        self.path, self.symbol, self.exchange, self.spill = path, symbol, exchange, spill
        self.chosen = symbol
        self.other_rows, self.other_first, self.misdated = 0, None, 0
        #: ``{"price"|"size": {decimals: largest |mantissa| written with that many}}``
        self.mantissa_max: dict[str, dict[int, int]] = {"price": {}, "size": {}}
        self._open: pl.DataFrame | None = None  # typed rows of the last message, maybe not whole

    def block(self, table: pl.DataFrame) -> None:
        """A block's rows (string columns and ``src_row``): checked, the whole messages written."""
        path = self.path
        if not table.height:
            return
        if self.exchange is not None:
            exchange_of(path, table, self.exchange)
        if self.chosen is None:
            self.chosen = table["symbol"][0]
        mine = table["symbol"] == self.chosen
        others = table.filter(~mine)
        if others.height:
            if self.symbol is None:
                raise InputError(path, int(others["src_row"][0]), "the file holds several symbols: choose one")
            if self.other_first is None:
                self.other_first = f"{path}, row {others['src_row'][0]}: symbol {others['symbol'][0]!r}"
            self.other_rows += others.height
        rows = typed_rows(path, table.filter(mine))
        if self._open is not None:
            rows = pl.concat([self._open, rows])
        rows = numbered(rows)
        if rows.height:
            last = rows["msg"][-1]
            self._open = rows.filter(pl.col("msg") == last).drop("msg")
            self._write(rows.filter(pl.col("msg") < last))

    def finish(self) -> None:
        """The file's last message written; no row of the symbol at all is an error."""
        if self._open is not None:
            self._write(numbered(self._open))
        if not self.spill.lengths["src_row"]:
            raise InputError(self.path, None, f"no rows for symbol {self.chosen!r}")
        for col in ("price", "size"):
            found = self.mantissa_max[col]
            if not _fits(np.array(list(found.values()), dtype=np.int64), np.array(list(found), dtype=np.int64),
                         max(found)):
                raise InputError(self.path, None, f"a {col} does not fit a 64-bit integer at the day's scale")

    def _write(self, rows: pl.DataFrame) -> None:
        """Whole messages' rows (:func:`.tardis_rows.numbered`) parsed and appended to the spill."""
        if not rows.height:
            return
        path, sp = self.path, self.spill
        messages = message_table(rows)
        self.misdated += int(messages.filter("snapshot")["misdated"].sum())
        prices, price_d = scaled_integers(rows["price"], path=path, rows=rows["src_row"], what="price")
        sizes, size_d = scaled_integers(rows["amount"], path=path, rows=rows["src_row"], what="amount")
        negative = (sizes < 0).arg_true()
        if negative.len():
            raise InputError(path, int(rows["src_row"][int(negative[0])]), "negative amount")
        for col, values, d in (("price", prices, price_d), ("size", sizes, size_d)):
            found = self.mantissa_max[col]
            found[d] = max(found.get(d, 0), int(values.abs().max()))
        count = messages["count"].to_numpy().astype(np.int64)
        sp.append({"snapshot": messages["snapshot"].to_numpy(), "ts_event": messages["ts_event"].to_numpy(),
                   "ts_recv": messages["ts_recv"].to_numpy(), "src_row": messages["src_row"].to_numpy(),
                   "count": count, "level_start": sp.lengths["side"] + np.cumsum(count) - count,
                   "side": rows["side"].to_numpy(), "price_m": prices.to_numpy(),
                   "price_f": np.full(rows.height, price_d), "size_m": sizes.to_numpy(),
                   "size_f": np.full(rows.height, size_d), "level_row": rows["src_row"].to_numpy()})


def spilled_book(path: str | Path, symbol: str | None = None, exchange: str | None = None,
                 block_size: int | None = None) -> SpilledBook:
    """One symbol of an ``incremental_book_L2`` file as the L2 path's book, its messages in a spill
    (the messages, levels and counters :func:`.tardis.read_book_messages` makes; see the module
    docstring). ``symbol`` None: the file's one symbol; ``exchange``: the stream's (a row of
    another is an error); ``block_size``: decompressed bytes read at a time (:data:`BLOCK`)."""
    path = Path(path)
    spill = Spill({**MESSAGE_COLUMNS, **LEVEL_COLUMNS})
    try:
        done = _read(path, symbol, exchange, spill, block_size or BLOCK)
    except BaseException:
        spill.close()
        raise
    spilled = SpilledColumns(spill, str(path), done.mantissa_max, None, ("snapshot", "ts_event", "ts_recv", "src_row"),
                             _frame, levels={**{k: k for k in SCALED_LEVEL_COLUMNS}, "src_row": "level_row"})
    book = SpilledBook(done.chosen, spilled, sequencing=SEQUENCING, clear="sides", names=("price", "amount"))
    book.stats["snapshot_rows_misdated"] = done.misdated
    book.stats["other_symbol_rows"] = done.other_rows
    if done.other_first is not None:
        book.stats["other_symbol_first"] = done.other_first
    return book


def _read(path: Path, symbol: str | None, exchange: str | None, spill: Spill, block_size: int) -> _Pass:
    """The pass over the file's blocks (the header first: it must be Tardis's)."""
    done = _Pass(path, symbol, exchange, spill)
    for lines, first in _line_blocks(path, block_size):
        if first == 1:
            if tuple(lines[0].split(",")) != INCREMENTAL_COLUMNS:
                raise InputError(path, 1, f"header is not {','.join(INCREMENTAL_COLUMNS)!r}")
            lines, first = lines.slice(1), 2
        done.block(fields_table(path, lines, list(INCREMENTAL_COLUMNS), first))
    done.finish()
    return done
