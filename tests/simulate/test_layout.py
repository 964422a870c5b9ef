"""Landing-zone names and the weekday calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.feeds.lobster import MESSAGE_RE
from obrecon_pipeline.simulate.layout import day_files, weekdays


def test_day_files_are_lobster_names():
    msg, book = day_files(Path("/r"), "GOOG", "2024-01-02", 10, compress=False)
    assert msg == Path("/r/raw/lobster/2024-01-02/GOOG_2024-01-02_34200000_57600000_message_10.csv")
    assert book == Path("/r/raw/lobster/2024-01-02/GOOG_2024-01-02_34200000_57600000_orderbook_10.csv")
    m = MESSAGE_RE.search(msg.name)
    assert (m["ticker"], m["date"], m["levels"]) == ("GOOG", "2024-01-02", "10")
    gz, _ = day_files(Path("/r"), "BRK.B", "2024-01-02", 1, compress=True)
    assert gz.name == "BRK.B_2024-01-02_34200000_57600000_message_1.csv.gz"
    assert MESSAGE_RE.search(gz.name)["ticker"] == "BRK.B"


def test_symbol_must_be_a_lobster_ticker():
    with pytest.raises(ObreconError, match="cannot be a LOBSTER ticker"):
        day_files(Path("/r"), "GOOG_X", "2024-01-02", 10, compress=False)


def test_weekdays():
    # Friday 5 January 2024 to Tuesday 9 January: the weekend is skipped
    assert weekdays(date(2024, 1, 5), date(2024, 1, 9)) == [date(2024, 1, 5), date(2024, 1, 8), date(2024, 1, 9)]
    assert weekdays(date(2024, 1, 6), date(2024, 1, 7)) == []
    assert len(weekdays(date(2024, 1, 1), date(2024, 12, 31))) == 262
    with pytest.raises(ObreconError, match="before start"):
        weekdays(date(2024, 1, 9), date(2024, 1, 5))
