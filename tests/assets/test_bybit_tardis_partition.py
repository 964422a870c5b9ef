"""Bybit and Tardis partitions through the Dagster layer (landing zone -> book -> feed_integrity)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from tests.assets.conftest import landing_day
from tests.conftest import RAW



def test_bybit_partition_passes(tmp_path, shipped_integrity):
    check, meta = shipped_integrity(tmp_path, "bybit/XRPUSDT-ob500/2024-12-01")
    assert check.passed and (meta["rows"], meta["gaps"], meta["duplicates"], meta["invalid_rows"]) == (50, 0, 0, 0)


def test_bybit_partition_with_a_lost_delta_fails_and_locates_it(tmp_path, materialize_integrity):
    day = landing_day(tmp_path, "bybit/XRPUSDT-ob500/2024-12-01")
    with zipfile.ZipFile(RAW / "bybit" / "2024-12-01" / "xrpusdt-ob500.data.zip") as zf:
        lines = zf.read("2024-12-01_XRPUSDT_ob500.data").decode().splitlines()
    del lines[9]  # u = 20254878
    (day / "2024-12-01_XRPUSDT_ob500.data").write_text("\n".join(lines) + "\n")
    check, meta = materialize_integrity(tmp_path, "bybit/XRPUSDT-ob500/2024-12-01")
    assert not check.passed
    assert (meta["gaps"], meta["first_gap_row"], meta["invalid_rows"]) == (1, 9, 40)
    assert meta["first_gap_ids"] == "expected 20254878, received 20254879"
    assert meta["first_gap_line"].endswith("2024-12-01_XRPUSDT_ob500.data, row 10")
    assert meta["first_gap_time"].startswith("2024-12-01T00:00:01.591")


def test_tardis_partition(tmp_path, shipped_integrity):
    check, meta = shipped_integrity(tmp_path, "tardis/deribit-BTC-PERPETUAL/2020-04-01")
    assert check.passed and (meta["rows"], meta["gaps"]) == (1, 0)
