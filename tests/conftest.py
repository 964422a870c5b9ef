"""Shared fixtures: a committed copy of the shipped landing zone (``tests/fixtures/raw``) is the test data, so a user adding days to ``data/raw`` never changes a test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "tests" / "fixtures" / "raw"
LOBSTER_DAY = RAW / "lobster" / "2012-06-21"
TARDIS_INCREMENTAL = REPO / "tests" / "fixtures" / "tardis" / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"


@pytest.fixture
def lobster_day() -> Path:
    return LOBSTER_DAY


@pytest.fixture
def small_landing_zone(tmp_path: Path) -> Path:
    """A data root holding only the small AAPL level-10 LOBSTER cut (999 messages)."""
    day = tmp_path / "raw" / "lobster" / "2012-06-21"
    day.mkdir(parents=True)
    for name in (
        "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz",
        "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv.gz",
    ):
        shutil.copy(LOBSTER_DAY / name, day / name)
    return tmp_path


def write_tardis_reconnect(directory: Path) -> Path:
    """Into ``directory``: the Tardis incremental sample with constructed rows appended (not market data): a live update
    at t1 (two rows), then a new snapshot block at t2 of one bid and one ask, as after a reconnect."""
    path = directory / TARDIS_INCREMENTAL.name
    path.write_text(TARDIS_INCREMENTAL.read_text() + "\n".join([
        "deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,ask,6421.5,0",
        "deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,bid,6420,500",
        "deribit,BTC-PERPETUAL,1585699200900000,1585699201000000,true,bid,6419.5,10",
        "deribit,BTC-PERPETUAL,1585699200900000,1585699201000000,true,ask,6425,20",
    ]) + "\n")
    return path


@pytest.fixture
def tardis_reconnect(tmp_path: Path) -> Path:
    """:func:`write_tardis_reconnect` into the test's ``tmp_path``."""
    return write_tardis_reconnect(tmp_path)
