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

from pathlib import Path

import numpy as np
import polars as pl

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


def compare_tickers_in(cells: np.ndarray, price_scale: int, size_scale: int, tickers: pl.DataFrame) -> dict:
    """:func:`compare_tickers` on a replayed book held in memory (``cells`` in the replayer's layout)."""
    rows = tickers["row"].drop_nulls().to_numpy()
    return compare_tickers(cells[rows, :4], price_scale, size_scale, tickers)


def compare_tickers_written(book: str | Path, price_scale: int, size_scale: int, tickers: pl.DataFrame) -> dict:
    """:func:`compare_tickers` on a book table written to Parquet, reading only the compared rows'
    level 1 (the book is never loaded whole; not read at all when no ticker has a row)."""
    rows = tickers["row"].drop_nulls()
    if rows.is_empty():
        return compare_tickers(np.zeros((0, len(FIELDS)), dtype=np.int64), price_scale, size_scale, tickers)
    wanted = (
        pl.scan_parquet(book).select(*(f"{f}_1" for f in FIELDS)).with_row_index("row")
        .filter(pl.col("row").is_in(rows.unique().implode())).collect()
    )
    top = to_cells(wanted.drop("row"), price_scale, size_scale)
    at = np.searchsorted(wanted["row"].to_numpy().astype(np.int64), rows.to_numpy())
    return compare_tickers(top[at], price_scale, size_scale, tickers)
