"""The feed-integrity checks of the circuit breaker: a gap counts against the book only when the
feed never resynced from it, and the quarantine rate is judged against its one threshold
(``integrity_thresholds.max_quarantine_rate``) on the real Kraken XMR/USD capture with injected
unusable messages."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from assets.feed_integrity import quarantine_rate, unresynced
from resources import IntegrityThresholds
from tests.conftest import RAW

KRAKEN = RAW / "cryptofeed" / "2021-04-17"
KEY = "cryptofeed/KRAKEN-XMR-USD/2021-04-17"


def test_a_gap_is_open_until_a_valid_row_follows_it_before_the_next_gap():
    valid = np.array([1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    # gap at row 2: valid again at 4, before the next gap (resynced); gap at 6: valid at 9 < 10
    # (resynced); gap at 10: no valid row after it (open)
    assert unresynced([2, 6, 10], valid) == [False, False, True]
    # the gap at 6 is followed by the gap at 8 before any valid row: open
    assert unresynced([2, 6, 8], valid) == [False, True, False]
    assert unresynced([11], valid) == [True]  # the last row: nothing after it
    assert unresynced([], valid) == []


def _land_with_bad_checksums(root, copies: int) -> tuple[str, int]:
    """The Kraken capture with ``copies`` extra copies of its first XMR/USD diff whose checksum is
    not a number (each one quarantined); the capture's name and the first copy's line number."""
    day = root / "raw" / "cryptofeed" / "2021-04-17"
    shutil.copytree(KRAKEN, day)
    lines = gzip.decompress((day / "KRAKEN.ws.50.0.gz").read_bytes()).decode().splitlines(keepends=True)
    i = next(n for n, t in enumerate(lines) if ': [992,{"b"' in t)
    bad = lines[i].replace('"c":"', '"c":"x')
    (day / "KRAKEN.ws.50.0.gz").write_bytes(gzip.compress("".join(lines[: i + 1] + [bad] * copies + lines[i + 1:]).encode()))
    return "KRAKEN.ws.50.0.gz", i + 2  # 1-based line of the first copy


@pytest.mark.parametrize("copies", [1, 10])
def test_quarantine_rate_against_its_threshold(tmp_path, materialize_check, copies):
    name, line = _land_with_bad_checksums(tmp_path, copies)
    check, meta = materialize_check(tmp_path, KEY, quarantine_rate)
    events = meta["events"]
    assert (meta["quarantined"], events) == (copies, 1_931)  # the capture's XMR/USD events, unchanged
    assert meta["value"] == copies / (copies + events)
    assert meta["threshold"] == IntegrityThresholds().max_quarantine_rate == 0.001
    assert check.passed is (copies == 1)  # 1 / 1932 = 0.05 % is tolerated, 10 / 1941 = 0.5 % is not
    assert meta["first_bad_row"] == (f"{tmp_path}/raw/cryptofeed/2021-04-17/{name}, row {line}: "
                                      "checksum 'x2583817756' is not an unsigned integer")
