"""Shared helpers of the cryptofeed tests: the shipped captures and edited copies of them."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import polars as pl

from obrecon_pipeline.book_schema import to_cells
from obrecon_pipeline.feeds.cryptofeed import from_files, load_messages
from obrecon_pipeline.integrity.tickers import ticker_agreement
from obrecon_pipeline.replay import replay
from tests.conftest import RAW

CRYPTOFEED = RAW / "cryptofeed"
KRAKEN = CRYPTOFEED / "2021-04-17" / "KRAKEN.ws.50.0.gz"
OKX = CRYPTOFEED / "2022-05-13" / "OKX.ws.1.0.gz"
BINANCE_DAYS = {
    "BINANCE": "2021-10-12",
    "BINANCE_US": "2021-10-12",
    "BINANCE_TR": "2023-04-10",
    "BINANCE_FUTURES": "2021-07-22",
    "BINANCE_DELIVERY": "2021-07-22",
}


def binance_files(venue: str) -> list[Path]:
    day = CRYPTOFEED / BINANCE_DAYS[venue]
    return [day / f"{venue}.ws.1.0.gz", day / f"{venue}.http.0.0.gz"]


def lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return fh.read().splitlines(keepends=True)


def write_capture(tmp: Path, like: Path, content: list[str]) -> Path:
    """A plain-text capture named like ``like`` (``X.ws.1.0.gz`` -> ``tmp/X.ws.1.0``)."""
    out = tmp / like.name.removesuffix(".gz")
    out.write_text("".join(content), encoding="utf-8")
    return out


def stream(files: list[Path], symbol: str):
    return next(s for s in from_files(files) if s.symbol == symbol)


def run(files: list[Path], symbol: str, levels: int = 10):
    """``(book_messages, sequenced, loaded, replay_result)`` of one symbol."""
    s = stream(files, symbol)
    bm = load_messages(s)
    sq = bm.sequenced()
    loaded = bm.to_loaded(s)
    return bm, sq, loaded, replay(loaded.events, levels, loaded.options)


def diff_rows(bm, sq) -> pl.DataFrame:
    """``row`` (book row, emit="message"), ``msg`` and ``update_id`` of every applied diff."""
    order = sq.order
    msgs = bm.messages()
    rows = np.flatnonzero(order >= 0)
    frame = pl.DataFrame({"row": rows.astype(np.int64), "msg": order[rows]})
    return frame.join(msgs.select("msg", "snapshot", pl.col("last").alias("update_id")), on="msg").filter(
        ~pl.col("snapshot")
    ).drop("snapshot")


def ticker_checks(bm, sq, book: pl.DataFrame) -> pl.DataFrame:
    """Tickers whose update id ends an applied diff (``BookMessages.ticker_rows``), each with
    ``agree``: the replayed level 1 at its row equals it (``integrity.tickers.ticker_agreement``)."""
    checks = bm.ticker_rows(sq).filter(pl.col("row").is_not_null())
    if checks.height == 0:
        return checks.with_columns(agree=pl.lit(True))
    top = book.select("bid_price_1", "bid_size_1", "ask_price_1", "ask_size_1")[checks["row"].to_numpy()]
    _, price_dec, size_dec = bm.levels()
    price_scale, size_scale = 10 ** price_dec, 10 ** size_dec
    agree, *_ = ticker_agreement(to_cells(top, price_scale, size_scale), price_scale, size_scale, checks)
    return checks.with_columns(agree=pl.Series(agree))


def top(book: pl.DataFrame, row: int = -1) -> tuple:
    r = book.row(row, named=True)
    return r["bid_price_1"], r["bid_size_1"], r["ask_price_1"], r["ask_size_1"]


def runs(files, expected: dict, levels: int = 10):
    """The capture's streams are exactly ``expected``'s symbols, in order; yields ``(symbol,
    book_messages, sequenced, loaded, replay_result)`` of each."""
    streams = from_files(files)
    assert [s.symbol for s in streams] == list(expected)
    for s in streams:
        yield (s.symbol, *run(files, s.symbol, levels))


def check_streams(files, expected: dict, levels: int = 10) -> dict:
    """Every stream: message count, one snapshot, no gap, no quarantine, valid and uncrossed.
    Returns ``symbol -> (stats, replay result, book messages, sequenced)``."""
    out = {}
    for symbol, bm, sq, loaded, res in runs(files, expected, levels):
        msgs = bm.messages()
        assert (msgs.height, int(msgs["snapshot"].sum())) == (expected[symbol][0], 1), symbol
        assert loaded.stats["stale"] == expected[symbol][1], symbol
        assert (loaded.stats["gaps"], loaded.stats["duplicates"], loaded.stats["quarantined"]) == (0, 0, 0)
        assert res.book["book_valid"].all(), symbol
        assert res.counters["crossed_rows"] == res.counters["locked_rows"] == 0, symbol
        out[symbol] = (loaded.stats, res, bm, sq)
    return out


def ticker_totals(got: dict) -> tuple[int, int]:
    """``(checked, agree)`` over every stream of ``check_streams``: ticker messages whose update id
    ends an applied diff, and those equal to the replayed top of book (:func:`ticker_checks`)."""
    checked = agree = 0
    for stats, res, bm, sq in got.values():
        tc = ticker_checks(bm, sq, res.book)
        checked += tc.height
        agree += int(tc["agree"].sum())
    return checked, agree
