"""Marketable orders from a feed that reports fills apart from the book change (Databento F)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from obrecon_pipeline.events import Action
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.metrics.impact import marketable_orders
from obrecon_pipeline.pipeline import replay_stream
from tests.conftest import RAW

DAY = RAW / "databento" / "2023-12-25"


def test_esh4_fills_are_marketable_orders_and_the_book_predicts_their_vwap():
    feed = get_feed("databento")
    (stream,) = feed.discover(DAY, "2023-12-25")
    loaded = feed.load(stream)
    run = replay_stream("databento", loaded, 10)
    orders = marketable_orders(loaded.events, run.result.book)
    fills = loaded.events.filter((pl.col("action") == Action.FILL) & (pl.col("side") != 0))
    assert orders["n_fills"].sum() == fills.height  # every sided fill belongs to exactly one order
    assert orders.height == 2_939
    assert orders["beyond_book"].sum() == 0
    errors = orders["vwap_error_bp"].abs()
    assert errors.null_count() == 0
    assert errors.median() == 0.0  # the rebuilt book before each order predicts its VWAP exactly
    assert (errors > 1.0).sum() == 2
