"""Cross-venue figures on the shipped Binance pair (BTCUSDT spot vs USD-M futures, 2024-08-08
23:54–23:57 UTC, rebuilt from the hftbacktest captures), and frozen / drifting books made from it."""

import json

import numpy as np
import polars as pl
import pytest

from obrecon_pipeline.book_schema import level_names
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.metrics.cross_venue import CrossVenueSpec, aligned, cross_venue, episodes, figures_row
from obrecon_pipeline.pipeline import replay_stream
from tests.conftest import RAW

DAY = RAW / "hftbacktest" / "2024-08-08"
NAMES = ("spot-BTCUSDT", "usdm-BTCUSDT")
STEP = 100_000_000  # 100 ms


@pytest.fixture(scope="module")
def books():
    feed = get_feed("hftbacktest")
    streams = {s.name: s for s in feed.discover(DAY, "2024-08-08")}
    return tuple(replay_stream("hftbacktest", feed.load(streams[n]), 10).result.book for n in NAMES)


@pytest.fixture(scope="module")
def figures(books):
    return cross_venue(*books, names=NAMES)


def test_grid_is_the_time_both_books_cover(books, figures):
    spot, usdm = books
    start = -(-max(spot["ts_event"][0], usdm["ts_event"][0]) // STEP) * STEP
    end = min(spot["ts_event"][-1], usdm["ts_event"][-1]) // STEP * STEP
    assert (figures["start_ns"], figures["end_ns"]) == (start, end) == (1723161256600000000, 1723161421100000000)
    assert figures["grid_points"] == figures["usable_points"] == (end - start) // STEP + 1 == 1646


def test_basis_is_the_as_of_mid_difference(books):
    """The as-of join against a plain searchsorted: the last row at or before each grid time."""
    grid = aligned(*books)
    ts = grid["ts"].to_numpy()
    mids = []
    for book in books:
        at = np.searchsorted(book["ts_event"].to_numpy(), ts, side="right") - 1
        mids.append(((book["bid_price_1"] + book["ask_price_1"]) / 2).to_numpy()[at])
    assert np.array_equal(grid["basis_bp"].to_numpy(), 1e4 * (mids[1] - mids[0]) / mids[0])


def test_basis_distribution_and_stability(figures):
    assert {k: round(v, 6) for k, v in figures["basis_bp"].items()} == {
        "mean": -3.593169, "std": 0.436596, "min": -5.782116, "p1": -4.434383, "p5": -4.251133, "p25": -3.890078,
        "p50": -3.588615, "p75": -3.308264, "p95": -2.806561, "p99": -2.580713, "max": -2.003973}
    stability = figures["basis_stability"]
    assert [round(m, 6) for m in stability["window_medians_bp"]] == [-3.483456, -3.552712, -3.603698, -4.277661]
    assert stability["window_points"] == [434, 600, 600, 12]  # 60 s windows from 23:54:00
    assert round(stability["median_range_bp"], 6) == 0.794205
    assert (round(stability["ar1"], 6), round(stability["half_life_s"], 6)) == (0.863399, 0.47192)


def test_staleness_shares(books, figures):
    grid = aligned(*books)
    assert (int(grid["stale_a"].sum()), int(grid["stale_b"].sum())) == (677, 426)
    assert figures["stale_share"] == {"spot-BTCUSDT": 677 / 1646, "usdm-BTCUSDT": 426 / 1646}
    # stale means: no mid move for >= 1 s while the other venue's mid moved since
    stale = grid.filter("stale_a")
    assert (stale["age_a_s"] >= 1.0).all() and (stale["changed_b"] > stale["changed_a"]).all()


def test_futures_lead_spot_by_one_grid_step(figures):
    ll = figures["lead_lag"]
    assert ll["lags_s"][0] == -2.0 and ll["lags_s"][-1] == 2.0 and len(ll["corr"]) == 41
    assert (ll["peak_lag_s"], ll["leader"]) == (-0.1, "b")  # usdm's returns come 100 ms before spot's
    assert (round(ll["peak_corr"], 6), round(ll["corr_at_0"], 6), round(ll["lead_lag_ratio"], 6)) == (
        0.474522, 0.330165, 0.080194)


def test_the_real_pair_has_no_episode(books, figures):
    assert figures["episodes"] == []
    grid = aligned(*books)
    # the best quotes of either book never stay still for even 1 s: far below the 5 s freeze mark
    assert (round(grid["top_age_a_s"].max(), 3), round(grid["top_age_b_s"].max(), 3)) == (0.585, 0.326)


def _top_changes(book: pl.DataFrame) -> pl.Series:
    top = [f"{f}_1" for f in ("bid_price", "bid_size", "ask_price", "ask_size")]
    return book.select(pl.any_horizontal(pl.col(c) != pl.col(c).shift(1) for c in top).fill_null(True).alias("moved"))["moved"]


def test_a_frozen_book_fails_at_the_time_it_froze(books):
    """Spot's book keeps its rows but stops changing for 20 s from the row at 23:55:30.143: one frozen
    episode, started at that row's time, seen 5 s later (the freeze mark), ended when it moves again."""
    spot, usdm = books
    changed = _top_changes(spot)
    i = int(np.flatnonzero(changed.to_numpy() & (spot["ts_event"].to_numpy() >= 1723161330_100_000_000))[0])
    t0 = int(spot["ts_event"][i])
    stretch = (spot["ts_event"] >= t0) & (spot["ts_event"] < t0 + 20_000_000_000)
    frozen = spot.with_columns(pl.when(stretch).then(pl.lit(spot[i, c])).otherwise(pl.col(c)).alias(c)
                               for c in level_names(10))
    resumed = int(frozen.filter((pl.col("ts_event") >= t0 + 20_000_000_000) & _top_changes(frozen))["ts_event"][0])
    found = episodes(aligned(frozen, usdm), names=NAMES)
    assert found.to_dicts() == [{
        "kind": "frozen", "venue": "spot-BTCUSDT", "start_ns": t0,
        "first_point_ns": -(-(t0 + 5_000_000_000) // STEP) * STEP,
        "end_ns": -(-resumed // STEP) * STEP,
        "points": (-(-resumed // STEP) - -(-(t0 + 5_000_000_000) // STEP)),
        "peak": found["peak"][0],
    }]
    assert 19.0 < found["peak"][0] < 20.0 + 0.585
    assert t0 == 1723161330143000000  # 23:55:30.143


def test_a_drifting_book_fails_where_the_basis_left_its_level(books):
    """Spot's prices 15 bp higher from 23:55:30 on (a mis-scaled or mislabeled book): the basis
    leaves its trailing median at the first grid point that sees a shifted row."""
    spot, usdm = books
    t0 = 1723161330_000_000_000
    prices = [c for c in level_names(10) if "price" in c]
    drifted = spot.with_columns(pl.when(pl.col("ts_event") >= t0).then(pl.col(c) * 1.0015).otherwise(pl.col(c)).alias(c)
                                for c in prices)
    found = episodes(aligned(drifted, usdm), names=NAMES)
    first_shifted = int(spot.filter(pl.col("ts_event") >= t0)["ts_event"][0])
    assert found["kind"].to_list() == ["drift"] and found["venue"][0] == "spot-BTCUSDT/usdm-BTCUSDT"
    assert found["start_ns"][0] == -(-first_shifted // STEP) * STEP == t0 + STEP  # first shifted row: .042
    assert 13.0 < found["peak"][0] < 17.0  # 15 bp, give or take the basis's own ±2 bp
    # the trailing 60 s median has moved over by half a window later: the drift has become the level
    assert found["end_ns"][0] - t0 == pytest.approx(30e9, abs=2e9)


def test_figures_row_is_flat_and_names_the_leader(figures):
    row = figures_row(figures)
    assert (row["leader"], row["episodes"], json.loads(row["episode_list"])) == ("usdm-BTCUSDT", 0, [])
    assert row["basis_p50_bp"] == figures["basis_bp"]["p50"] and row["stale_share_a"] == 677 / 1646
    assert all(not isinstance(v, (dict, list)) for v in row.values())


def test_spec_refuses_a_non_positive_step():
    with pytest.raises(ValueError, match="step_s must be positive"):
        CrossVenueSpec(step_s=0)
