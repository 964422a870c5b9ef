"""The fidelity assets and checks through Dagster on the real GOOG level-10 day, and on a copy of
that day with 2 % of its messages dropped (made here, fixed seed): every check passes on the real
day; on the damaged copy the reference-match checks and the VWAP fidelity check fail and their
metadata points at the first dropped message."""

import gzip
import shutil
import warnings
import zipfile
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from assets import book, fidelity, fidelity_checks
from assets.partitions import partition_key, register
from resources import resources_for
from obrecon_pipeline.fidelity.compare import RULES
from resources.fidelity import FidelityThresholds
from tests.conftest import RAW

LOBSTER_DAY = RAW / "lobster" / "2012-06-21"
ZIP = LOBSTER_DAY / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
KEY = "lobster/GOOG-L10/2012-06-21"
STEM = "GOOG_2012-06-21_34200000_57600000"
SEED, DROP = 20120621, 0.02
ASSETS = [
    book.replay_partition,
    fidelity.spreads,
    fidelity.order_flow_imbalance,
    fidelity.returns,
    fidelity.microstructure,
    fidelity.market_impact,
    fidelity.fidelity_report,
    *fidelity_checks.FIDELITY_CHECKS,
]
REFERENCE_CHECKS = {
    "spread_correlation", "depth_correlation", "l1_spread_error_bp", "ks_returns", "garch_match", "hill_match",
    "ljung_box_match",
}


def _materialize(root: Path):
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [KEY])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dg.materialize(
            ASSETS,
            partition_key=partition_key(KEY),
            instance=instance,
            resources=resources_for(root),
        )
    assert result.success
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _meta(check) -> dict:
    return {k: v.value for k, v in check.metadata.items()}


def _damaged_copy(root: Path) -> np.ndarray:
    """The GOOG day with 2 % of its messages (and their orderbook rows) dropped, as .csv.gz files
    in a landing zone; returns the 0-based indices of the dropped messages (2 958 of 147 916; the
    first, 0-based 42, is an execution of 29 shares at the best bid)."""
    with zipfile.ZipFile(ZIP) as z:
        names = {n.rsplit("_", 2)[1]: n for n in z.namelist() if n.endswith(".csv")}
        messages = z.read(names["message"]).splitlines(keepends=True)
        books = z.read(names["orderbook"]).splitlines(keepends=True)
    n = len(messages)
    dropped = np.sort(np.random.default_rng(SEED).choice(n, size=round(DROP * n), replace=False))
    keep = np.ones(n, dtype=bool)
    keep[dropped] = False
    day = root / "raw" / "lobster" / "2012-06-21"
    day.mkdir(parents=True)
    for kind, lines in (("message", messages), ("orderbook", books)):
        body = b"".join(line for line, k in zip(lines, keep) if k)
        (day / f"{STEM}_{kind}_10.csv.gz").write_bytes(gzip.compress(body, compresslevel=1))
    return dropped


@pytest.fixture(scope="module")
def real_day(tmp_path_factory):
    root = tmp_path_factory.mktemp("goog")
    (root / "raw" / "lobster" / "2012-06-21").mkdir(parents=True)
    shutil.copy(ZIP, root / "raw" / "lobster" / "2012-06-21")
    return root, _materialize(root)


@pytest.fixture(scope="module")
def damaged_day(tmp_path_factory):
    root = tmp_path_factory.mktemp("goog_damaged")
    dropped = _damaged_copy(root)
    return root, dropped, _materialize(root)


def test_every_fidelity_check_passes_on_the_real_goog_day(real_day):
    _, checks = real_day
    assert set(checks) == set(RULES)
    assert all(c.passed for c in checks.values()), [n for n, c in checks.items() if not c.passed]
    m = {name: _meta(c) for name, c in checks.items()}
    # the rebuilt book equals LOBSTER's on every row: exact agreement
    assert (m["spread_correlation"]["value"], m["spread_correlation"]["n"]) == (pytest.approx(1.0, abs=1e-12), 147_916)
    assert m["depth_correlation"]["value"] == pytest.approx(1.0, abs=1e-12)
    assert m["l1_spread_error_bp"]["value"] == 0.0
    assert (m["ks_returns"]["value"], m["ks_returns"]["n"]) == (1.0, 23_399)  # 1 s returns, 09:30-16:00
    assert m["garch_match"]["value"] == m["hill_match"]["value"] == m["ljung_box_match"]["value"] == 0.0
    # stylized facts of GOOG's 1 s mid returns
    assert m["volatility_clustering"]["value"] < 1e-100
    assert 2.5 < m["tail_index"]["value"] < 3.0 and m["tail_index"]["k"] == m["tail_index"]["n"] // 20
    assert 0.9 < m["garch_persistence"]["value"] < 1.0
    # every marketable order but the first (no book before it) is predicted exactly
    assert (m["vwap_prediction"]["value"], m["vwap_prediction"]["n"]) == (0.0, 5_930)
    assert m["vwap_prediction"]["orders_over_threshold"] == 0


def test_metric_tables_are_stored_per_partition(real_day):
    root, _ = real_day
    wh = root / "warehouse"
    part = Path("GOOG-L10", "2012-06-21.parquet")  # <stream>/<day>
    spreads = pl.read_parquet(wh / "spreads" / part)
    assert spreads.height == 147_916 and {"spread_bp_1", "spread_bp_10", "bid_depth_10"} <= set(spreads.columns)
    assert "spread_15" not in spreads.columns  # a level-10 book has no 15th level
    ofi = pl.read_parquet(wh / "order_flow_imbalance" / part)
    assert sorted(ofi["sampling"].unique()) == ["10s", "1s"] and "ofi_norm_10" in ofi.columns
    returns = pl.read_parquet(wh / "returns" / part)
    assert returns.group_by("sampling").len().sort("sampling").rows() == [("10s", 2_339), ("1s", 23_399), ("event", 147_915)]
    assert {"micro_price", "imbalance_10"} <= set(pl.read_parquet(wh / "microstructure" / part).columns)
    assert pl.read_parquet(wh / "market_impact" / part).height == 5_931
    fits = pl.read_parquet(wh / "impact_regression" / part)
    assert fits["model"].to_list() == ["ofi_regression", "ofi_regression", "square_root_law"]
    assert (fits["coefficient"][:2] > 0).all()  # buy pressure raises the mid
    report = pl.read_parquet(wh / "fidelity_report" / part).row(0, named=True)
    assert report["partition"] == KEY
    # identical estimates on the rebuilt and the reference book
    for name in ("lb_q_10", "lb_q_20", "hill_alpha", "hill_se", "garch_alpha", "garch_beta", "garch_persistence"):
        assert report[name] == report[f"ref_{name}"], name
    assert report["n_returns"] == 23_399 and report["hill_k"] == report["n_nonzero_returns"] // 20
    assert report["garch_converged"] == 1.0


def test_damaged_copy_fails_the_reference_and_fidelity_checks_and_points_at_the_damage(damaged_day):
    _, dropped, checks = damaged_day
    failed = {n for n, c in checks.items() if not c.passed}
    # every reference comparison but the Ljung-Box verdict (both books still show clustering), and
    # the VWAP prediction; the stylized facts alone are still present in the damaged book
    assert failed == REFERENCE_CHECKS - {"ljung_box_match"} | {"vwap_prediction"}
    m = {name: _meta(c) for name, c in checks.items()}
    th = FidelityThresholds()
    assert m["spread_correlation"]["value"] < th.spread_corr_min
    assert m["depth_correlation"]["value"] < th.depth_corr_min
    assert m["l1_spread_error_bp"]["value"] > th.l1_spread_error_bp_max
    assert m["ks_returns"]["value"] < th.ks_alpha
    assert m["garch_match"]["value"] > th.garch_rel_tol
    assert m["hill_match"]["value"] > th.hill_rel_tol
    assert m["vwap_prediction"]["value"] > th.vwap_median_error_bp_max
    first = int(dropped[0])
    # depth diverges on the very next message after the first dropped one (same index once the
    # message is gone); its raw row is the dropped row + 1 in the original file
    assert m["depth_correlation"]["first_divergent_seq"] == first
    assert m["depth_correlation"]["first_divergent_message"].startswith(f"row {first + 1}: ")
    assert "first_divergent_rows" in m["depth_correlation"]
    # the spread and VWAP damage appear after a dropped message that touched the best quotes
    assert m["spread_correlation"]["first_divergent_seq"] >= first
    assert m["vwap_prediction"]["first_bad_order_arrival"] >= first
    assert m["spread_correlation"]["first_divergent_ts_event_utc"].startswith("2012-06-21T")
    # the replayer noticed too, and every result says how many rows it flagged
    assert m["spread_correlation"]["rows_flagged_invalid"] > 0
    assert all(c.severity is dg.AssetCheckSeverity.WARN for c in checks.values())


def test_per_row_tables_are_written_slice_by_slice_and_equal_the_whole_book(real_day, tmp_path):
    """spreads and microstructure reach the warehouse one Parquet row group per book slice
    (:meth:`~obrecon_pipeline.metrics.batches.Batched.write_parquet`), cell for cell the tables of the whole book."""
    import math

    import pyarrow.parquet as pq

    from obrecon_pipeline.metrics.batches import per_batch
    from obrecon_pipeline.metrics.microstructure import microstructure
    from obrecon_pipeline.metrics.spreads import spreads

    root, _ = real_day
    wh, part = root / "warehouse", Path("GOOG-L10", "2012-06-21.parquet")
    book = pl.scan_parquet(wh / "book" / part)
    for name, metric in (("spreads", spreads), ("microstructure", microstructure)):
        assert pl.read_parquet(wh / name / part).equals(metric(book).collect()), name
    path = tmp_path / "spreads.parquet"
    per_batch(spreads, book, slice_rows=4096).write_parquet(path)
    assert pq.read_metadata(path).num_row_groups == math.ceil(147_916 / 4096)
    assert pl.read_parquet(path).equals(spreads(book).collect())
