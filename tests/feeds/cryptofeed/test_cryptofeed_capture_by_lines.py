"""A capture read by lines on every pass (files above ``STREAM_ABOVE``) gives the same streams,
events, counters and quarantine as the capture held parsed in memory."""

import pytest

from cfhelpers import KRAKEN, OKX, binance_files
from obrecon_pipeline.feeds import cryptofeed
from obrecon_pipeline.feeds._io import held_bytes
from obrecon_pipeline.feeds.cryptofeed import capture, from_files, load


def loaded_streams(files):
    capture._read_capture.cache_clear()
    cryptofeed._messages.cache_clear()
    return [load(s) for s in from_files(files)]


@pytest.mark.parametrize("files", [[KRAKEN], [OKX], binance_files("BINANCE")], ids=["kraken", "okx", "binance"])
def test_read_by_lines_equals_held(files, monkeypatch):
    held = loaded_streams(files)
    monkeypatch.setattr(capture, "STREAM_ABOVE", 0)
    by_lines = loaded_streams(files)
    assert isinstance(capture.read_capture(files[0]).records, capture._Pass)  # really read by lines
    assert [s.stream for s in by_lines] == [s.stream for s in held]
    for a, b in zip(held, by_lines):
        assert a.events.equals(b.events) and a.stats == b.stats and a.quarantine.equals(b.quarantine)
    capture._read_capture.cache_clear()
    cryptofeed._messages.cache_clear()


def test_a_gzip_capture_is_judged_by_its_decompressed_size(monkeypatch):
    """A limit between the capture's bytes on disk and its decompressed size reads it by lines."""
    assert KRAKEN.stat().st_size < held_bytes(KRAKEN)
    capture._read_capture.cache_clear()
    monkeypatch.setattr(capture, "STREAM_ABOVE", KRAKEN.stat().st_size)
    assert isinstance(capture.read_capture(KRAKEN).records, capture._Pass)
    capture._read_capture.cache_clear()
    monkeypatch.setattr(capture, "STREAM_ABOVE", held_bytes(KRAKEN))
    assert not isinstance(capture.read_capture(KRAKEN).records, capture._Pass)
    capture._read_capture.cache_clear()
