"""Bybit and Tardis partitions through the Dagster layer (landing zone -> book -> feed_integrity)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import dagster as dg

from assets import book
from assets.feed_integrity import feed_integrity
from assets.partitions import STREAM_DAYS, discover_streams
from resources import resources_for

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


def materialize(root: Path, key: str):
    assert key in [s.partition_key for s in discover_streams(root / "raw")]
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(STREAM_DAYS.name, [key])
    result = dg.materialize([book.replay_partition, feed_integrity], partition_key=key,
                            resources=resources_for(root), instance=instance)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    return check, {k: v.value for k, v in check.metadata.items()}


def test_bybit_partition_passes(tmp_path):
    shutil.copytree(RAW / "bybit" / "2024-12-01", tmp_path / "raw" / "bybit" / "2024-12-01")
    check, meta = materialize(tmp_path, "bybit/XRPUSDT-ob500/2024-12-01")
    assert check.passed
    assert (meta["rows"], meta["gaps"], meta["duplicates"], meta["invalid_rows"]) == (50, 0, 0, 0)


def test_bybit_partition_with_a_lost_delta_fails_and_locates_it(tmp_path):
    day = tmp_path / "raw" / "bybit" / "2024-12-01"
    day.mkdir(parents=True)
    with zipfile.ZipFile(RAW / "bybit" / "2024-12-01" / "xrpusdt-ob500.data.zip") as zf:
        lines = zf.read("2024-12-01_XRPUSDT_ob500.data").decode().splitlines()
    del lines[9]  # u = 20254878
    (day / "2024-12-01_XRPUSDT_ob500.data").write_text("\n".join(lines) + "\n")
    check, meta = materialize(tmp_path, "bybit/XRPUSDT-ob500/2024-12-01")
    assert not check.passed
    assert (meta["gaps"], meta["first_gap_row"], meta["invalid_rows"]) == (1, 9, 40)
    assert meta["first_gap_ids"] == "expected 20254878, received 20254879"
    assert meta["first_gap_line"].endswith("2024-12-01_XRPUSDT_ob500.data, row 10")
    assert meta["first_gap_time"].startswith("2024-12-01T00:00:01.591")


def test_tardis_partition(tmp_path):
    shutil.copytree(RAW / "tardis" / "2020-04-01", tmp_path / "raw" / "tardis" / "2020-04-01")
    check, meta = materialize(tmp_path, "tardis/deribit-BTC-PERPETUAL/2020-04-01")
    assert check.passed and (meta["rows"], meta["gaps"]) == (1, 0)
