"""The ``features`` asset through Dagster on the small AAPL level-10 partition (999 messages,
09:30:00.0042 .. 09:30:49.0864): stored per partition, equal to the core query on the stored book,
and configurable per run."""

import warnings
from pathlib import Path

import dagster as dg
import polars as pl

from assets import book, features
from assets.definitions import defs
from assets.partitions import partition_key, register
from obrecon_pipeline.metrics.features import FeatureSpec
from obrecon_pipeline.metrics.features import features as feature_table
from resources import resources_for

KEY = "lobster/AAPL-L10/2012-06-21"
PART = Path("AAPL-L10", "2012-06-21.parquet")  # <stream>/<day>


def _materialize(root, run_config=None):
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [KEY])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dg.materialize([book.replay_partition, features.features], partition_key=partition_key(KEY), instance=instance,
                                resources=resources_for(root), run_config=run_config)
    assert result.success
    (event,) = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey("features")]
    stored = root / "warehouse" / "features" / PART
    return pl.read_parquet(stored), event.materialization.metadata


def test_features_are_materialized_per_partition(small_landing_zone):
    table, metadata = _materialize(small_landing_zone)
    stored_book = small_landing_zone / "warehouse" / "book" / PART
    assert table.equals(feature_table(pl.scan_parquet(stored_book)))
    # 100 ms points 09:30:00.1 .. 09:30:49.1, 1 s points 09:30:01 .. 09:30:50; LOBSTER never flags a row
    assert table.group_by("sampling", maintain_order=True).len().rows() == [("0.1s", 491), ("1s", 50)]
    assert (metadata["rows"].value, metadata["valid_rows"].value) == (541, 541)
    assert {"micro_price", "spread_bp_10", "imbalance_10", "ofi_10", "realized_vol_100", "fwd_return_100"} <= set(
        table.columns)
    assert table.filter(pl.col("sampling") == "1s")["n_rows"].sum() == 999


def test_grid_steps_windows_and_horizons_are_run_config(small_landing_zone):
    config = {"steps_s": [0.5], "rv_windows": [4], "horizons": [2]}
    table, _ = _materialize(small_landing_zone, {"ops": {"features": {"config": config}}})
    assert table["sampling"].unique().to_list() == ["0.5s"] and table.height == 99  # 09:30:00.5 .. 09:30:49.5
    assert table.columns[-2:] == ["realized_vol_4", "fwd_return_2"]
    assert FeatureSpec((0.5,), (4,), (2,)) == features.FeaturesConfig(**config).spec()


def test_features_is_part_of_the_code_location():
    node = defs.get_repository_def().asset_graph.get(dg.AssetKey("features"))
    assert node.group_name == "features" and node.code_version == "1"
    assert node.parent_keys == {dg.AssetKey("book")}
