"""Crossed books (best bid > best ask): locate every crossed row and tell a pre-open cross from an error.

In a continuous double auction an incoming order that crosses the opposite best trades at once, so
a crossed book during continuous trading means the reconstruction or the data is wrong. During a
call (pre-open) phase a venue lets orders cross without matching (CME Globex pre-open; the
opening auction then trades the overlap away), so a cross there is legitimate.

A *cross episode* is a maximal run of consecutive book rows with ``bid_price_1 > ask_price_1``.
With ``first`` and ``last`` the event indices (``seq``) of its first and last rows and ``end`` the
``seq`` of the next (uncrossed) row, and trades = events with action TRADE, FILL, EXECUTE or
HIDDEN_EXECUTE counted by ``arrival``:

* ``trades_while_crossed`` = trades with ``first < arrival <= last`` (printed while the published
  book stayed crossed);
* ``trades_at_uncross`` = trades with ``last < arrival <= end`` (in the message that uncrossed it).

The episode is ``pre_open`` when nothing traded while it was crossed and trading starting is what
ended it (``trades_while_crossed == 0`` and ``trades_at_uncross > 0``); otherwise it is
``continuous`` (a cross that trades through, or that ends without a trade, or never ends). Works on
any feed's book table (:mod:`obrecon_pipeline.book_schema`) and normalized events. Locked books
(bid == ask) are counted separately and are not episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from obrecon_pipeline.codes import CrossedKind
from obrecon_pipeline.events import Action

PRE_OPEN = CrossedKind.PRE_OPEN.label
CONTINUOUS = CrossedKind.CONTINUOUS.label
TRADING_ACTIONS = (Action.TRADE, Action.FILL, Action.EXECUTE, Action.HIDDEN_EXECUTE)

EPISODE_SCHEMA = {
    "episode": pl.Int64,
    "kind": pl.String,
    "rows": pl.Int64,
    "first_seq": pl.Int64,
    "last_seq": pl.Int64,
    "end_seq": pl.Int64,
    "first_ts": pl.Int64,
    "last_ts": pl.Int64,
    "trades_while_crossed": pl.Int64,
    "trades_at_uncross": pl.Int64,
}


@dataclass
class CrossedBooks:
    rows: pl.DataFrame  #: every crossed row: seq, ts_event, update_id, book_valid, bid/ask price 1, episode, kind
    episodes: pl.DataFrame  #: one row per episode: :data:`EPISODE_SCHEMA`
    locked_rows: int

    def as_report(self) -> dict:
        """report.json extension keys (the core ``crossed_rows`` stays the replayer's count)."""
        per_kind = {k: self.rows.filter(pl.col("kind") == k).height for k in (PRE_OPEN, CONTINUOUS)}
        return {
            "crossed_rows_classified": self.rows.height,
            "crossed_rows_pre_open": per_kind[PRE_OPEN],
            "crossed_rows_continuous": per_kind[CONTINUOUS],
            "crossed_episodes": self.episodes.height,
            "crossed_episodes_pre_open": self.episodes.filter(pl.col("kind") == PRE_OPEN).height,
            "crossed_episodes_continuous": self.episodes.filter(pl.col("kind") == CONTINUOUS).height,
            "crossed_episode_list": self.episodes.to_dicts(),
            "locked_rows": self.locked_rows,
        }


def classify_crossed(book: pl.DataFrame, events: pl.DataFrame) -> CrossedBooks:
    """Locate and classify every crossed row of ``book`` (rows in replay order) against ``events``."""
    top = book.select("seq", "ts_event", "update_id", "book_valid", "bid_price_1", "ask_price_1").with_columns(
        (pl.col("bid_price_1") > pl.col("ask_price_1")).fill_null(False).alias("crossed"),
        pl.col("seq").shift(-1).alias("next_seq"),
    )
    locked = top.filter(pl.col("bid_price_1") == pl.col("ask_price_1")).height
    runs = top.with_columns((pl.col("crossed") != pl.col("crossed").shift(1)).fill_null(True).cum_sum().alias("run"))
    crossed = runs.filter(pl.col("crossed"))
    episodes = (
        crossed.group_by("run", maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.col("seq").first().alias("first_seq"),
            pl.col("seq").last().alias("last_seq"),
            pl.col("next_seq").last().alias("end_seq"),
            pl.col("ts_event").first().alias("first_ts"),
            pl.col("ts_event").last().alias("last_ts"),
        )
        .with_row_index("episode")
    )
    trades = np.sort(events.filter(pl.col("action").is_in(TRADING_ACTIONS))["arrival"].to_numpy())

    def trades_in(lo: pl.Series, hi: pl.Series) -> np.ndarray:
        """Trades with lo < arrival <= hi (hi null: none)."""
        hi_np = hi.fill_null(-1).to_numpy()
        count = np.searchsorted(trades, hi_np, side="right") - np.searchsorted(trades, lo.to_numpy(), side="right")
        return np.where(hi.is_null().to_numpy(), 0, np.maximum(count, 0))

    episodes = episodes.with_columns(
        pl.Series("trades_while_crossed", trades_in(episodes["first_seq"], episodes["last_seq"]), dtype=pl.Int64),
        pl.Series("trades_at_uncross", trades_in(episodes["last_seq"], episodes["end_seq"]), dtype=pl.Int64),
    ).with_columns(
        pl.when((pl.col("trades_while_crossed") == 0) & (pl.col("trades_at_uncross") > 0))
        .then(pl.lit(PRE_OPEN))
        .otherwise(pl.lit(CONTINUOUS))
        .alias("kind")
    )
    rows = crossed.join(episodes.select("run", "episode", "kind"), on="run", how="left").select(
        "seq", "ts_event", "update_id", "book_valid", "bid_price_1", "ask_price_1",
        pl.col("episode").cast(pl.Int64), "kind",
    )
    episodes = episodes.select(list(EPISODE_SCHEMA)).cast(EPISODE_SCHEMA)
    return CrossedBooks(rows=rows, episodes=episodes, locked_rows=locked)
