"""Crossed-book classification on small hand-built books (the real pre-open is in
tests/feeds/test_databento.py)."""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.events import Action
from obrecon_pipeline.integrity.crossed import classify_crossed


def book(rows: list[tuple[int, float, float]]) -> pl.DataFrame:
    """(seq, best bid, best ask) per row."""
    return pl.DataFrame(
        {
            "ts_event": [1_000 * s for s, _, _ in rows],
            "seq": [s for s, _, _ in rows],
            "update_id": [None] * len(rows),
            "book_valid": [True] * len(rows),
            "bid_price_1": [b for _, b, _ in rows],
            "ask_price_1": [a for _, _, a in rows],
        },
        schema_overrides={"update_id": pl.Int64},
    )


def events(n: int, trades: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"arrival": list(range(n)), "action": [Action.TRADE if i in trades else Action.ADD for i in range(n)]},
        schema={"arrival": pl.Int64, "action": pl.Int8},
    )


ROWS = [(0, 99.0, 100.0), (2, 101.0, 100.0), (4, 101.0, 99.0), (6, 99.0, 100.0), (8, 100.0, 100.0)]


def test_pre_open_cross_ends_with_the_opening_trade():
    # crossed at rows seq 2 and 4; trades only at 5 and 6, in the message that uncrossed (seq 6)
    result = classify_crossed(book(ROWS), events(9, trades=[5, 6]))
    assert result.rows.select("seq", "episode", "kind").rows() == [(2, 0, "pre_open"), (4, 0, "pre_open")]
    assert result.episodes.select("first_seq", "last_seq", "end_seq", "trades_while_crossed", "trades_at_uncross").row(0) == (
        2, 4, 6, 0, 2,
    )
    report = result.as_report()
    assert (report["crossed_rows_pre_open"], report["crossed_rows_continuous"], report["locked_rows"]) == (2, 0, 1)


def test_trading_while_crossed_is_continuous():
    # a trade at event 3, between the two crossed rows: the book stayed crossed while trading
    result = classify_crossed(book(ROWS), events(9, trades=[3, 5]))
    assert result.episodes.select("kind", "trades_while_crossed", "trades_at_uncross").row(0) == ("continuous", 1, 1)


def test_cross_that_ends_without_a_trade_or_never_ends_is_continuous():
    assert classify_crossed(book(ROWS), events(9, trades=[])).episodes["kind"].to_list() == ["continuous"]
    never = ROWS[:3]
    result = classify_crossed(book(never), events(5, trades=[]))
    assert result.episodes.select("end_seq", "kind").row(0) == (None, "continuous")


def test_two_episodes_are_classified_separately():
    rows = ROWS[:4] + [(8, 102.0, 101.0), (10, 99.0, 101.0)]
    result = classify_crossed(book(rows), events(11, trades=[5, 9]))
    assert result.episodes.select("episode", "first_seq", "kind", "trades_while_crossed").rows() == [
        (0, 2, "pre_open", 0),
        (1, 8, "pre_open", 0),
    ]
    result = classify_crossed(book(rows), events(11, trades=[5]))
    assert result.episodes["kind"].to_list() == ["pre_open", "continuous"]
    assert result.as_report()["crossed_rows_continuous"] == 1


def test_empty_side_is_never_crossed():
    rows = [(0, None, 100.0), (1, 101.0, None)]
    result = classify_crossed(book(rows), events(2, trades=[]))
    assert result.rows.height == 0 and result.episodes.height == 0
