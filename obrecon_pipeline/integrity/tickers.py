"""A rebuilt book against the top-of-book references a venue sends beside it (Binance ``bookTicker``).

Binance's ``bookTicker`` carries the order-book update id ``u`` its best bid/ask belongs to. When
``u`` is the last update id of an applied depth diff, the ticker is the exact best bid price and
size and best ask price and size of the book after that diff (Binance spot and derivatives API
docs, "Individual Symbol Book Ticker Streams" and "How to manage a local order book correctly").
The feed finds that book row (:meth:`obrecon_pipeline.feeds.l2.messages.BookMessages.ticker_rows`);
here the four values are compared with the rebuilt level 1 as exact scaled integers, both brought
to the finer of the two scales. report.json's ``ticker_reference``:

``tickers`` (all ticker messages), ``compared`` (those ending an applied diff), ``agree``,
``disagree``, ``first_disagreement`` (file, line, receive time, update id, book row, ours vs
theirs) or None.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from obrecon_pipeline.book_schema import FIELDS, to_cells
from obrecon_pipeline.codes import NULL_CELL
from obrecon_pipeline.feeds.decimals import scaled_integers
from obrecon_pipeline.integrity.snapshots import _rescale


def _theirs(tickers: pl.DataFrame) -> tuple[np.ndarray, int, int]:
    """``(int64[n, 4], price_scale, size_scale)`` of the tickers' text values."""
    cols, scale = [], {}
    for name in FIELDS:
        values, d = scaled_integers(tickers[name], path=tickers["file"][0] if tickers.height else "",
                                    rows=tickers["src_row"], what=f"bookTicker {name}")
        cols.append(values.to_numpy())
        scale[name] = 10 ** d
    price, size = max(scale["bid_price"], scale["ask_price"]), max(scale["bid_size"], scale["ask_size"])
    out = np.column_stack([c * ((price if "price" in n else size) // scale[n]) for c, n in zip(cols, FIELDS)])
    return out.astype(np.int64).reshape(-1, 4), price, size


def ticker_agreement(top: np.ndarray, price_scale: int, size_scale: int,
                     compared: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(agree, ours, theirs, scale)``: per compared ticker (``compared``: tickers with a ``row``),
    whether the rebuilt level 1 ``top`` (``int64[k, 4]`` at ``price_scale`` / ``size_scale``, row j
    for ticker j) equals it; ``ours``/``theirs`` at the common ``scale`` (per column)."""
    theirs, t_price, t_size = _theirs(compared)
    price, size = max(price_scale, t_price), max(size_scale, t_size)
    ours = _rescale(np.ascontiguousarray(top[:, :4]), price // price_scale, size // size_scale)
    theirs = _rescale(theirs, price // t_price, size // t_size)
    return (ours == theirs).all(axis=1), ours, theirs, np.array([price, size, price, size], dtype=np.float64)


def compare_tickers(top: np.ndarray, price_scale: int, size_scale: int, tickers: pl.DataFrame) -> dict:
    """``ticker_reference`` from the rebuilt level 1 at the compared tickers' rows.

    ``top`` is ``int64[k, 4]`` (bid price, bid size, ask price, ask size at ``price_scale`` /
    ``size_scale``), row j for the j-th ticker with a non-null ``row`` in ``tickers``.
    """
    compared = tickers.filter(pl.col("row").is_not_null())
    out = {"tickers": tickers.height, "compared": compared.height, "agree": 0, "disagree": 0,
           "first_disagreement": None}
    if compared.height == 0:
        return out
    agree, ours, theirs, scale = ticker_agreement(top, price_scale, size_scale, compared)
    out["agree"], out["disagree"] = int(agree.sum()), int((~agree).sum())
    if not agree.all():
        j = int(np.flatnonzero(~agree)[0])
        row = compared.row(j, named=True)

        def natural(cells: np.ndarray) -> dict:
            return {f: None if c == NULL_CELL else float(c / s) for f, c, s in zip(FIELDS, cells, scale)}

        out["first_disagreement"] = {
            "file": row["file"], "src_row": row["src_row"], "ts_recv": row["ts_recv"],
            "update_id": row["update_id"], "row": row["row"], "ours": natural(ours[j]), "theirs": natural(theirs[j]),
        }
    return out


def compare_ticker_blocks(blocks: Iterable[pl.DataFrame], top_at: Callable[[np.ndarray], np.ndarray],
                          price_scale: int, size_scale: int) -> dict:
    """:func:`compare_tickers` of tickers handed in blocks (each a frame of tickers with ``row``;
    ``top_at(rows)``: the rebuilt level 1 at those book rows, ``int64[k, 4]``), equal to it on their
    concatenation sorted by ``(ts_recv, src_row)`` (stable), for which the counts add up and the
    first disagreement is the one with the smallest ``(ts_recv, src_row, block)`` of the blocks'
    first ones, each block sorted the same way; only one block is held at a time."""
    out = {"tickers": 0, "compared": 0, "agree": 0, "disagree": 0, "first_disagreement": None}
    first_key = None
    for b, block in enumerate(blocks):
        block = block.sort(["ts_recv", "src_row"], maintain_order=True)
        rows = block["row"].drop_nulls().to_numpy()
        top = top_at(rows) if len(rows) else np.zeros((0, len(FIELDS)), dtype=np.int64)
        part = compare_tickers(top, price_scale, size_scale, block)
        for k in ("tickers", "compared", "agree", "disagree"):
            out[k] += part[k]
        first = part["first_disagreement"]
        if first is not None and (first_key is None or (first["ts_recv"], first["src_row"], b) < first_key):
            out["first_disagreement"], first_key = first, (first["ts_recv"], first["src_row"], b)
    return out


def compare_tickers_in(cells: np.ndarray, price_scale: int, size_scale: int, blocks: Iterable[pl.DataFrame]) -> dict:
    """:func:`compare_ticker_blocks` on a replayed book held in memory (``cells`` in the replayer's layout)."""
    return compare_ticker_blocks(blocks, lambda rows: cells[rows, :4], price_scale, size_scale)


class WrittenLevelOne:
    """``top_at`` of :func:`compare_ticker_blocks` for a book table written to Parquet: the level 1
    at the rows asked, read a row group at a time (the last one read is kept: the blocks' rows
    mostly move forward), so the book is never loaded whole; the file is opened at the first call."""

    def __init__(self, book: str | Path, price_scale: int, size_scale: int):
        self.book, self.price_scale, self.size_scale = book, price_scale, size_scale
        self._kept: tuple[int, np.ndarray | None] = (-1, None)

    @cached_property
    def _file(self) -> pq.ParquetFile:
        return pq.ParquetFile(self.book)

    @cached_property
    def _starts(self) -> np.ndarray:
        """The first row of each row group, then the number of rows."""
        meta = self._file.metadata
        return np.cumsum([0, *(meta.row_group(g).num_rows for g in range(meta.num_row_groups))])

    def _group(self, g: int) -> np.ndarray:
        if self._kept[0] != g:
            table = self._file.read_row_group(g, columns=[f"{f}_1" for f in FIELDS])
            self._kept = (g, to_cells(pl.from_arrow(table), self.price_scale, self.size_scale))
        return self._kept[1]

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        group = np.searchsorted(self._starts, rows, side="right") - 1
        top = np.empty((len(rows), len(FIELDS)), dtype=np.int64)
        for g in np.unique(group).tolist():
            at = group == g
            top[at] = self._group(g)[rows[at] - self._starts[g]]
        return top


def compare_tickers_written(book: str | Path, price_scale: int, size_scale: int,
                            blocks: Iterable[pl.DataFrame]) -> dict:
    """:func:`compare_ticker_blocks` on a book table written to Parquet (:class:`WrittenLevelOne`:
    only the row groups holding compared rows are read, their level 1; none when no ticker has a row)."""
    return compare_ticker_blocks(blocks, WrittenLevelOne(book, price_scale, size_scale), price_scale, size_scale)
