"""The ``cross_venue`` asset and its check through Dagster, on the shipped hftbacktest day: both
Binance books materialized as stream-day partitions, then the day's cross-venue partition."""

import shutil
import warnings

import dagster as dg
import polars as pl
import pytest

from assets import book, cross_venue
from assets.definitions import defs
from assets.partitions import DAYS, discover_streams, partition_key, register
from obrecon_pipeline.book_schema import level_names
from obrecon_pipeline.metrics.cross_venue import cross_venue as core_figures
from obrecon_pipeline.metrics.cross_venue import figures_row
from resources import resources_for
from resources.cross_venue import CrossVenuePairs
from tests.conftest import RAW

DAY = "2024-08-08"
KEYS = [f"hftbacktest/spot-BTCUSDT/{DAY}", f"hftbacktest/usdm-BTCUSDT/{DAY}"]


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """A data root with the hftbacktest day landed and both books materialized."""
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(RAW / "hftbacktest" / DAY, root / "raw" / "hftbacktest" / DAY)
    assert [s.partition_key for s in discover_streams(root / "raw")] == KEYS
    instance = dg.DagsterInstance.ephemeral()
    register(instance, KEYS)
    for key in KEYS:
        assert dg.materialize([book.replay_partition], partition_key=partition_key(key), instance=instance,
                              resources=resources_for(root)).success
    return root, instance


def _compare(root, instance, resources=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dg.materialize([book.replay_partition, cross_venue.cross_venue, cross_venue.books_follow_each_other],
                                selection=dg.AssetSelection.groups(cross_venue.GROUP), partition_key=DAY,
                                instance=instance, resources={**resources_for(root), **(resources or {})})
    assert result.success
    stored = pl.read_parquet(root / "warehouse" / "cross_venue" / f"{DAY}.parquet")
    return stored, result.get_asset_check_evaluations()


def _books(root):
    return [pl.read_parquet(root / "warehouse" / "book" / name / f"{DAY}.parquet") for name in ("spot-BTCUSDT", "usdm-BTCUSDT")]


def test_the_day_partition_compares_the_configured_pair_and_passes(landed):
    root, instance = landed
    table, (evaluation,) = _compare(root, instance)
    expected = figures_row(core_figures(*_books(root), names=("spot-BTCUSDT", "usdm-BTCUSDT")))
    assert table.height == 1 and table["judged"][0] and table["reason"][0] is None
    assert {k: table[k][0] for k in expected} == expected
    assert (round(table["basis_p50_bp"][0], 6), table["lead_lag_peak_s"][0], table["leader"][0]) == (
        -3.588615, -0.1, "usdm-BTCUSDT")
    assert evaluation.passed and evaluation.check_name == "books_follow_each_other"
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert (meta["pairs_judged"], meta["episodes"], meta["grid_points"], meta["freeze_s"]) == (1, 0, 1646, 5.0)


def test_a_frozen_book_fails_the_check_and_names_when_it_started(landed, tmp_path):
    """The stored spot book stops changing for 20 s from 23:55:30.143 (rows kept, values frozen)."""
    root, instance = landed
    frozen_root = tmp_path / "root"
    shutil.copytree(root, frozen_root, symlinks=True)  # the stable paths are links into the committed set
    path = frozen_root / "warehouse" / "book" / "spot-BTCUSDT" / f"{DAY}.parquet"
    spot = pl.read_parquet(path)
    t0 = 1723161330143000000
    (i,) = spot.with_row_index().filter(pl.col("ts_event") == t0)["index"].to_list()
    stretch = (pl.col("ts_event") >= t0) & (pl.col("ts_event") < t0 + 20_000_000_000)
    spot.with_columns(pl.when(stretch).then(pl.lit(spot[i, c])).otherwise(pl.col(c)).alias(c)
                      for c in level_names(10)).write_parquet(path)
    table, (evaluation,) = _compare(frozen_root, instance)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert (meta["first_kind"], meta["first_venue"], meta["first_pair"]) == ("frozen", "spot-BTCUSDT",
                                                                             "spot-BTCUSDT/usdm-BTCUSDT")
    assert (meta["first_started"], meta["first_started_ns"]) == ("2024-08-08T23:55:30.143000000Z", t0)
    assert meta["first_seen_at"] == "2024-08-08T23:55:35.200000000Z"  # 5 s (freeze_s) later, on the grid
    assert meta["episodes"] == table["episodes"][0] == 1 and "| frozen | spot-BTCUSDT |" in meta["episode_table"]


def test_a_pair_without_both_books_is_not_judged(landed):
    root, instance = landed
    pairs = CrossVenuePairs(pairs=[{"a": "spot-BTCUSDT", "b": "spot-ETHUSDT"}])
    table, evaluations = _compare(root, instance, {"cross_venue_pairs": pairs})
    assert evaluations == []  # skipped: nothing to judge is not a failure
    assert table.select("venue_a", "venue_b", "judged", "reason").rows() == [
        ("spot-BTCUSDT", "spot-ETHUSDT", False, f"no book of spot-ETHUSDT on {DAY}")]


def test_cross_venue_runs_per_day_in_its_own_job():
    repo = defs.get_repository_def()
    node = repo.asset_graph.get(dg.AssetKey("cross_venue"))
    assert node.partitions_def == DAYS and node.parent_keys == {dg.AssetKey("book")}
    assert node.code_version == cross_venue.CODE_VERSION
    compare = defs.resolve_job_def("compare_venues")
    assert {k.to_user_string() for k in compare.asset_layer.selected_asset_keys} == {"cross_venue"}
    assert dg.AssetKey("cross_venue") not in defs.resolve_job_def("reconstruct").asset_layer.selected_asset_keys


def test_the_sensor_compares_a_day_once_its_paired_books_are_materialized(landed):
    """``build_sensor_context`` on the instance holding both books: one run for the day, keyed by the
    newer book; nothing on the next tick; nothing for a pair of streams that did not land."""
    _, instance = landed
    sensor = defs.get_repository_def().get_sensor_def("cross_venue_sensor")
    books = instance.fetch_materializations(dg.AssetKey("book"), limit=10, ascending=True).records
    with dg.build_sensor_context(instance=instance, resources={"cross_venue_pairs": CrossVenuePairs()}) as context:
        result = sensor(context)
    assert [(r.partition_key, r.run_key, r.job_name) for r in result.run_requests] == [
        (DAY, f"{DAY}@{books[-1].storage_id}", None)]
    assert result.cursor == str(books[-1].storage_id)
    with dg.build_sensor_context(instance=instance, cursor=result.cursor,
                                 resources={"cross_venue_pairs": CrossVenuePairs()}) as context:
        assert sensor(context).run_requests == []
    others = CrossVenuePairs(pairs=[{"a": "spot-ETHUSDT", "b": "usdm-ETHUSDT"}])
    with dg.build_sensor_context(instance=instance, resources={"cross_venue_pairs": others}) as context:
        result = sensor(context)
    assert result.run_requests == [] and result.cursor == str(books[-1].storage_id)
    assert sensor.job_name == "compare_venues"
