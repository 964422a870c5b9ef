"""cryptofeed partitions through the Dagster layer: the feed-integrity check shows the sequencer and
checksum counters with the first offending row."""

from __future__ import annotations

import shutil
from pathlib import Path
from tests.assets.conftest import landing_day
from tests.conftest import RAW
from tests.feeds.cryptofeed.cfhelpers import lines, write_capture

CRYPTOFEED = RAW / "cryptofeed"


def test_kraken_partition_passes_with_every_checksum_verified(tmp_path, shipped_integrity):
    check, meta = shipped_integrity(tmp_path, "cryptofeed/KRAKEN-XMR-USD/2021-04-17")
    assert check.passed and (meta["checksum_ok"], meta["checksum_failed"], meta["gaps"], meta["rows"]) == (846, 0, 0, 847)


def test_binance_partition_with_a_lost_diff_fails_and_locates_it(tmp_path, materialize_integrity):
    day = landing_day(tmp_path, "cryptofeed/BINANCE-NKNUSDT/2021-10-12")
    shutil.copy(CRYPTOFEED / "2021-10-12" / "BINANCE.http.0.0.gz", day)
    ws = lines(CRYPTOFEED / "2021-10-12" / "BINANCE.ws.1.0.gz")
    depth = [i for i, t in enumerate(ws) if '"nknusdt@depth@100ms"' in t]
    write_capture(day, CRYPTOFEED / "2021-10-12" / "BINANCE.ws.1.0.gz", ws[:depth[60]] + ws[depth[60] + 1:])
    check, meta = materialize_integrity(tmp_path, "cryptofeed/BINANCE-NKNUSDT/2021-10-12")
    assert not check.passed
    assert (meta["gaps"], meta["first_gap_row"]) == (1, 60)
    assert meta["first_gap_ids"] == "expected 499869931, received 499869939"
    assert meta["first_gap_line"].endswith(f"BINANCE.ws.1.0, row {depth[61]}")
    assert meta["first_gap_time"].startswith("2021-10-12T")
