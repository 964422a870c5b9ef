"""Partitions: the stream-day id <-> Dagster key mapping, registration in date order, and a
backfill cell where nothing landed."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from assets import book
from assets.partitions import DAYS, STREAM_DAYS, STREAMS, partition_key, register, stream_day_id
from resources import resources_for
from tests.conftest import RAW
LOBSTER_DAY = RAW / "lobster" / "2012-06-21"
TARDIS = RAW / "tardis" / "2020-04-01" / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"


def test_stream_day_id_maps_to_the_dagster_key_and_back(tmp_path):
    key = partition_key("lobster/GOOG-L10/2012-06-21")
    assert key.keys_by_dimension == {"stream": "GOOG-L10", "trading_day": "2012-06-21"}
    assert str(key) == "GOOG-L10|2012-06-21"  # the stream first, and nothing in front of it
    assert STREAM_DAYS.partitions_defs[0].name == "stream"
    with pytest.raises(ValueError, match="not a stream-day id"):
        partition_key("lobster/GOOG-L10/21-06-2012")
    # back: the source is the landing zone's; with two sources on one day, the one listing the stream
    raw = tmp_path / "raw"
    shutil.copytree(LOBSTER_DAY, raw / "lobster" / "2012-06-21")
    (raw / "tardis" / "2012-06-21").mkdir(parents=True)
    shutil.copy(TARDIS, raw / "tardis" / "2012-06-21")
    for sid in ("lobster/GOOG-L10/2012-06-21", "tardis/deribit-BTC-PERPETUAL/2012-06-21"):
        assert stream_day_id(partition_key(sid), raw) == stream_day_id(str(partition_key(sid)), raw) == sid
    assert stream_day_id("GOOG-L10|2012-06-22", raw) is None  # nothing landed


def test_one_stream_name_in_two_sources_is_refused():
    with pytest.raises(ValueError, match=r"unique across sources: BTC-USD \(bybit, cryptofeed\)"):
        register(dg.DagsterInstance.ephemeral(), ["cryptofeed/BTC-USD/2021-04-17", "bybit/BTC-USD/2021-04-18"])


def test_registration_keeps_days_and_streams_in_order():
    instance = dg.DagsterInstance.ephemeral()
    assert register(instance, ["cryptofeed/KRAKEN-XBT-USD/2021-04-17", "lobster/GOOG-L10/2021-04-19"]) == [
        "cryptofeed/KRAKEN-XBT-USD/2021-04-17", "lobster/GOOG-L10/2021-04-19"]
    # a day that lands late, before the known ones, and a stream that sorts first
    assert register(instance, ["bybit/XRPUSDT-ob500/2021-04-18", "lobster/GOOG-L10/2012-06-21"]) == [
        "bybit/XRPUSDT-ob500/2021-04-18", "lobster/GOOG-L10/2012-06-21"]
    assert instance.get_dynamic_partitions(DAYS.name) == ["2012-06-21", "2021-04-17", "2021-04-18", "2021-04-19"]
    assert instance.get_dynamic_partitions(STREAMS.name) == ["GOOG-L10", "KRAKEN-XBT-USD",
                                                             "XRPUSDT-ob500"]
    # the cell (GOOG-L10, 2021-04-17) existed as a partition already (both its keys were known)
    assert register(instance, ["lobster/GOOG-L10/2021-04-17"]) == []
    assert instance.get_dynamic_partitions(DAYS.name) == ["2012-06-21", "2021-04-17", "2021-04-18", "2021-04-19"]


def test_a_cell_where_nothing_landed_materializes_nothing(small_landing_zone):
    instance = dg.DagsterInstance.ephemeral()
    register(instance, ["lobster/AAPL-L10/2012-06-21", "lobster/AAPL-L10/2012-06-22"])
    result = dg.materialize([book.replay_partition], partition_key=partition_key("lobster/AAPL-L10/2012-06-22"),
                            instance=instance, resources=resources_for(small_landing_zone))
    assert result.success
    assert result.get_asset_materialization_events() == []
    assert any("nothing landed" in (e.message or "") for e in instance.all_logs(result.run_id))
