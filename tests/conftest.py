"""Shared fixtures: a committed copy of the shipped landing zone (``tests/fixtures/raw``) is the test data, so a user adding days to ``data/raw`` never changes a test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "tests" / "fixtures" / "raw"
LOBSTER_DAY = RAW / "lobster" / "2012-06-21"


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
