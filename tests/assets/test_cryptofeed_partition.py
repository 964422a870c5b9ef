"""cryptofeed partitions through the Dagster layer: the feed-integrity check shows the sequencer and
checksum counters with the first offending row."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import dagster as dg

from assets import book
from assets.feed_integrity import feed_integrity
from assets.partitions import STREAM_DAYS, discover_streams
from resources import resources_for

RAW = Path(__file__).resolve().parents[2] / "data" / "raw" / "cryptofeed"


def materialize(root: Path, key: str):
    assert key in [s.partition_key for s in discover_streams(root / "raw")]
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(STREAM_DAYS.name, [key])
    result = dg.materialize([book.replay_partition, feed_integrity], partition_key=key,
                            resources=resources_for(root), instance=instance)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    return check, {k: v.value for k, v in check.metadata.items()}


def test_kraken_partition_passes_with_every_checksum_verified(tmp_path):
    day = tmp_path / "raw" / "cryptofeed" / "2021-04-17"
    shutil.copytree(RAW / "2021-04-17", day)
    check, meta = materialize(tmp_path, "cryptofeed/KRAKEN-XMR-USD/2021-04-17")
    assert check.passed
    assert (meta["checksum_ok"], meta["checksum_failed"], meta["gaps"], meta["rows"]) == (846, 0, 0, 847)


def test_binance_partition_with_a_lost_diff_fails_and_locates_it(tmp_path):
    day = tmp_path / "raw" / "cryptofeed" / "2021-10-12"
    day.mkdir(parents=True)
    shutil.copy(RAW / "2021-10-12" / "BINANCE.http.0.0.gz", day)
    with gzip.open(RAW / "2021-10-12" / "BINANCE.ws.1.0.gz", "rt") as fh:
        ws = fh.read().splitlines(keepends=True)
    depth = [i for i, t in enumerate(ws) if '"nknusdt@depth@100ms"' in t]
    del ws[depth[60]]
    (day / "BINANCE.ws.1.0").write_text("".join(ws))
    check, meta = materialize(tmp_path, "cryptofeed/BINANCE-NKNUSDT/2021-10-12")
    assert not check.passed
    assert (meta["gaps"], meta["first_gap_row"]) == (1, 60)
    assert meta["first_gap_ids"] == "expected 499869931, received 499869939"
    assert meta["first_gap_line"].endswith(f"BINANCE.ws.1.0, row {depth[61]}")
    assert meta["first_gap_time"].startswith("2021-10-12T")
