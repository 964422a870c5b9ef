"""``--format hftbacktest`` streams its spill: the shipped spot and USD-M BTCUSDT captures (one depth
symbol, receive times in order, bookTickers) take the flat path (:class:`SpilledBook`, also when the
pipeline opens the stream) and give, cell for cell, the events, counters, book and ticker rows of
the whole-day book read into memory, with the sequencer fed whole blocks or 7 messages at a time
and the replay cut into chunks of any size."""

import polars as pl
import pytest

from obrecon_pipeline.feeds import get_feed, hftbacktest
from obrecon_pipeline.feeds.cryptofeed import get_venue
from obrecon_pipeline.feeds.cryptofeed.binance import is_futures
from obrecon_pipeline.feeds.cryptofeed.capture import scanned
from obrecon_pipeline.feeds.l2 import source as l2_source
from obrecon_pipeline.feeds.l2.source import L2Source
from obrecon_pipeline.feeds.l2.spilled import SpilledBook
from obrecon_pipeline.replay import replay
from tests.feeds.hftbacktest_captures import SPOT, USDM

FEED = get_feed("hftbacktest")
#: per capture: messages (the REST snapshot and every diff), tickers, tickers ending an applied diff
#: (as :mod:`tests.feeds.test_hftbacktest` reads them off the raw lines)
COUNTS = {SPOT: (1657, 13041, 278), USDM: (3143, 28854, 277)}


def books(path):
    """The capture's book read from the spill and the same read whole into memory."""
    cap = scanned(path, hftbacktest.LINES)
    venue = get_venue("BINANCE_FUTURES" if is_futures(cap) else "BINANCE", path)
    return venue.load(cap, [], "BTCUSDT"), venue.load(cap, [], "BTCUSDT", stream=False)


@pytest.mark.parametrize("path", [SPOT, USDM], ids=["spot", "usdm"])
@pytest.mark.parametrize("block", [l2_source.BLOCK_MESSAGES, 7])
def test_a_bookticker_capture_replays_from_its_spill_as_the_whole_day(monkeypatch, path, block):
    monkeypatch.setattr(l2_source, "BLOCK_MESSAGES", block)
    spilled, whole = books(path)
    assert isinstance(spilled, SpilledBook) and not isinstance(whole, SpilledBook)
    (stream,) = FEED.from_files([path])
    assert isinstance(FEED.open(stream, True)._book, SpilledBook)  # what the pipeline replays
    messages, tickers, compared = COUNTS[path]
    assert spilled.n_messages == whole.n_messages == messages
    events, sq = whole.events()
    for chunk in (1 << 40, 1000):
        src = L2Source(stream, spilled)
        streamed = pl.concat([c.events for c in src.chunks(chunk)])
        assert streamed.equals(events) and src.expected_events == events.height
        assert src.stats() == whole.report_stats(sq)
    assert replay(streamed, 10, spilled.options()).book.equals(replay(events, 10, whole.options()).book)
    rows = spilled.ticker_rows()
    assert rows.equals(whole.ticker_rows())
    assert (rows.height, rows["row"].is_not_null().sum()) == (tickers, compared)
