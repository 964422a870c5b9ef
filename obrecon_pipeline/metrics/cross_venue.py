"""Cross-venue validation: does one instrument's book on venue A follow its book on venue B?

Two rebuilt books of the same instrument (say BTCUSDT on Binance spot, A, and on Binance USDⓈ-M
futures, B) are sampled on a common regular grid ``t_k = kΔ`` (epoch-aligned, over the time both
cover) by an as-of join: each book's state at ``t_k`` is its last row with ``ts_event <= t_k``
(previous-tick sampling). A grid point is *usable* when both rows are usable
(:func:`obrecon_pipeline.metrics.prices.usable`: both best quotes and ``book_valid``). Per point:

* mid-prices ``m^A_k``, ``m^B_k`` (:func:`~obrecon_pipeline.metrics.prices.mid_price`) and the
  **basis** in basis points, ``b_k = 10^4 (m^B_k - m^A_k) / m^A_k``;
* the **age** of each book, ``a^X_k = t_k - c^X_k``, ``c^X_k`` the time of X's last mid change at
  or before ``t_k``; A is **stale relative to B** at ``t_k`` when ``a^A_k >= τ`` and B's mid moved
  after A's did, ``c^B_k > c^A_k`` (A has not shown a move for τ while B has moved since).

Figures (:func:`cross_venue`):

* basis distribution: mean, standard deviation, min, quantiles 1/5/25/50/75/95/99 %, max;
* basis stability: medians per window of ``window_s`` and their range; the AR(1) coefficient
  ``φ = corr(b_k - b̄, b_{k-1} - b̄)`` and the half-life of a deviation, ``-Δ ln 2 / ln φ``
  (mean reversion of the basis, as for any spread; e.g. Tsay, *Analysis of Financial Time
  Series*, 3rd ed., §2.4);
* staleness: the share of usable points at which A is stale relative to B, and B to A;
* lead-lag: on the grid, log mid returns ``r^X_k = ln(m^X_k / m^X_{k-1})`` (both points usable)
  and their cross-correlation ``ρ(ℓ) = corr(r^A_k, r^B_{k+ℓ})`` for ``|ℓ Δ| <= max_lag_s``.
  A peak at ``ℓ* > 0`` means A's moves come first (A leads B by ``ℓ* Δ``); the lead-lag ratio
  ``LLR = Σ_{ℓ>0} ρ(ℓ)^2 / Σ_{ℓ<0} ρ(ℓ)^2`` (> 1: A leads) is the measure of Huth & Abergel,
  "High frequency lead/lag relationships — Empirical facts", *Journal of Empirical Finance* 26
  (2014) 41–58; cross-correlation of returns on a grid as in de Jong & Nijman, "High frequency
  analysis of lead-lag relationships between financial markets", *Journal of Empirical Finance* 4
  (1997) 259–277.

Episodes where one book stops following the other (:func:`episodes`), on usable points:

* **frozen** X: X's best quotes (prices and sizes) unchanged for at least ``freeze_s``,
  ``t_k - q^X_k >= freeze_s`` with ``q^X_k`` the time they last changed, while the other book's mid
  moved after that; the episode starts at ``q^X_k``. (A quiet book keeps its mid for seconds on a
  coarse tick, but the sizes at its best quotes change all the time: only a book that shows
  nothing at all while the other moves is frozen);
* **drift**: ``|b_k - median(b_{k-W+1..k})| > drift_bp`` (W = ``drift_window_s / Δ`` points, the
  trailing median the basis usually stays near) for at least ``min_drift_s``; it starts at the first
  such point.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from obrecon_pipeline.book_schema import FIELDS
from obrecon_pipeline.metrics.prices import NS_PER_S, lazy, mid_price, step_ns, usable

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
EPISODE_SCHEMA = {"kind": pl.String, "venue": pl.String, "start_ns": pl.Int64, "first_point_ns": pl.Int64,
                  "end_ns": pl.Int64, "points": pl.Int64, "peak": pl.Float64}


@dataclass(frozen=True)
class CrossVenueSpec:
    """Grid, windows and thresholds of the cross-venue figures and episodes (seconds, bp)."""

    step_s: float = 0.1  #: grid step Δ
    max_lag_s: float = 2.0  #: lead-lag lags up to ± this
    stale_after_s: float = 1.0  #: τ: a book is stale after this long without a mid change
    window_s: float = 60.0  #: basis stability: medians per window of this length
    freeze_s: float = 5.0  #: a frozen book: best quotes unchanged this long while the other moved
    drift_bp: float = 10.0  #: a drift: the basis this far from its trailing median
    drift_window_s: float = 60.0  #: the trailing median's window
    min_drift_s: float = 2.0  #: a drift lasts at least this long

    def __post_init__(self) -> None:
        for name in ("step_s", "max_lag_s", "stale_after_s", "window_s", "freeze_s", "drift_bp", "drift_window_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.min_drift_s < 0:
            raise ValueError(f"min_drift_s must be at least 0, got {self.min_drift_s}")


def _quotes(book: pl.DataFrame | pl.LazyFrame, suffix: str) -> pl.LazyFrame:
    """Per distinct ``ts_event`` (its last row): the mid (null where not usable), the time of the
    last mid change and of the last change of the best quotes (price or size) at or before it."""
    mid = pl.when(usable()).then(mid_price())
    top = [f"{f}_1" for f in FIELDS]
    top_moved = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in top)
    return (
        lazy(book).select("ts_event", *top, mid.alias("mid"))
        .unique(subset="ts_event", keep="last", maintain_order=True)
        .with_columns(
            changed=pl.when(pl.col("mid").ne_missing(pl.col("mid").shift(1))).then(pl.col("ts_event")),
            top_changed=pl.when(top_moved).then(pl.col("ts_event")),
        )
        .select(pl.col("ts_event").alias(f"ts_{suffix}"), pl.col("mid").alias(f"mid_{suffix}"),
                pl.col("changed").forward_fill().alias(f"changed_{suffix}"),
                pl.col("top_changed").forward_fill().alias(f"top_changed_{suffix}"))
    )


def aligned(a: pl.DataFrame | pl.LazyFrame, b: pl.DataFrame | pl.LazyFrame,
            spec: CrossVenueSpec = CrossVenueSpec()) -> pl.DataFrame:
    """The two books on the common grid: ``ts`` (grid time, ns), ``mid_a``, ``mid_b``, ``changed_a``,
    ``changed_b`` (last mid change), ``top_changed_a``, ``top_changed_b`` (last change of the best
    quotes), ``usable``, ``basis_bp``, ``age_a_s``, ``age_b_s``, ``top_age_a_s``, ``top_age_b_s``,
    ``stale_a``, ``stale_b`` (see the module docstring); empty when the books share no grid time."""
    qa, qb = _quotes(a, "a").collect(), _quotes(b, "b").collect()
    step = step_ns(spec.step_s)
    if qa.height == 0 or qb.height == 0:
        first, last = 0, -1
    else:
        first = -(-max(qa["ts_a"][0], qb["ts_b"][0]) // step)  # ceil
        last = min(qa["ts_a"][-1], qb["ts_b"][-1]) // step
    grid = pl.DataFrame({"ts": pl.int_range(first, last + 1, eager=True, dtype=pl.Int64) * step})
    tau = int(round(spec.stale_after_s * NS_PER_S))
    frame = (
        grid.join_asof(qa, left_on="ts", right_on="ts_a", strategy="backward")
        .join_asof(qb, left_on="ts", right_on="ts_b", strategy="backward")
        .drop("ts_a", "ts_b")
        .with_columns(usable=pl.col("mid_a").is_not_null() & pl.col("mid_b").is_not_null())
    )
    age_a, age_b = pl.col("ts") - pl.col("changed_a"), pl.col("ts") - pl.col("changed_b")
    return frame.with_columns(
        basis_bp=pl.when("usable").then(1e4 * (pl.col("mid_b") - pl.col("mid_a")) / pl.col("mid_a")),
        age_a_s=age_a / NS_PER_S,
        age_b_s=age_b / NS_PER_S,
        top_age_a_s=(pl.col("ts") - pl.col("top_changed_a")) / NS_PER_S,
        top_age_b_s=(pl.col("ts") - pl.col("top_changed_b")) / NS_PER_S,
        stale_a=pl.col("usable") & (age_a >= tau) & (pl.col("changed_b") > pl.col("changed_a")),
        stale_b=pl.col("usable") & (age_b >= tau) & (pl.col("changed_a") > pl.col("changed_b")),
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: the maximal runs of True in ``mask`` (``stop`` exclusive)."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def episodes(grid: pl.DataFrame, spec: CrossVenueSpec = CrossVenueSpec(), names: tuple[str, str] = ("a", "b")) -> pl.DataFrame:
    """Frozen-book and basis-drift episodes on an :func:`aligned` grid (:data:`EPISODE_SCHEMA`;
    ``start_ns`` = when it started, ``first_point_ns`` = the first grid point that shows it,
    ``peak`` = largest age in s / deviation in bp), in order of start."""
    ts = grid["ts"].to_numpy()
    step = step_ns(spec.step_s)
    rows = []
    for (x, y), venue in zip((("a", "b"), ("b", "a")), names):
        frozen = (grid["usable"] & (grid[f"top_age_{x}_s"] >= spec.freeze_s)
                  & (grid[f"changed_{y}"] > grid[f"top_changed_{x}"])).fill_null(False).to_numpy()
        for i, j in _runs(frozen):
            rows.append(("frozen", venue, int(grid[f"top_changed_{x}"][i]), int(ts[i]), int(ts[j - 1]) + step, j - i,
                         float(grid[f"top_age_{x}_s"][j - 1])))
    window = max(1, int(round(spec.drift_window_s / spec.step_s)))
    deviation = (grid["basis_bp"] - grid["basis_bp"].rolling_median(window, min_samples=1)).abs()
    drifting = (deviation > spec.drift_bp).fill_null(False).to_numpy()
    min_points = max(1, int(math.ceil(spec.min_drift_s / spec.step_s)))
    for i, j in _runs(drifting):
        if j - i >= min_points:
            rows.append(("drift", f"{names[0]}/{names[1]}", int(ts[i]), int(ts[i]), int(ts[j - 1]) + step, j - i,
                         float(deviation[i:j].max())))
    return pl.DataFrame(rows, schema=EPISODE_SCHEMA, orient="row").sort("start_ns", "kind")


def _returns(mid: np.ndarray) -> np.ndarray:
    """``ln(m_k / m_{k-1})``, NaN where either point is missing (index k; k = 0 is NaN)."""
    out = np.full(mid.shape, np.nan)
    out[1:] = np.log(mid[1:] / mid[:-1])
    return out


def _corr(x: np.ndarray, y: np.ndarray) -> float | None:
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3:
        return None
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    den = math.sqrt(float((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 0 else None


def lead_lag(grid: pl.DataFrame, spec: CrossVenueSpec = CrossVenueSpec()) -> dict:
    """``ρ(ℓ)`` for ``ℓ = -L..L`` (``lags_s``, ``corr``), the peak lag (s) and its correlation, ``ρ(0)``
    and the lead-lag ratio (module docstring); ``leader`` is ``"a"`` (peak at ℓ > 0), ``"b"`` or
    ``"none"`` (peak at 0)."""
    use = grid["usable"].to_numpy()
    ra = _returns(np.where(use, grid["mid_a"].fill_null(np.nan).to_numpy(), np.nan))
    rb = _returns(np.where(use, grid["mid_b"].fill_null(np.nan).to_numpy(), np.nan))
    n, lags = len(ra), int(round(spec.max_lag_s / spec.step_s))
    corr = []
    for lag in range(-lags, lags + 1):  # one vector operation per lag, not per point
        if lag >= 0:
            corr.append(_corr(ra[: n - lag], rb[lag:]))
        else:
            corr.append(_corr(ra[-lag:], rb[: n + lag]))
    values = np.array([np.nan if c is None else c for c in corr])
    out = {"lags_s": [round(k * spec.step_s, 9) for k in range(-lags, lags + 1)], "corr": corr,
           "peak_lag_s": None, "peak_corr": None, "corr_at_0": corr[lags], "lead_lag_ratio": None, "leader": None}
    if np.isnan(values).all():
        return out
    peak = int(np.nanargmax(values))
    sq = np.nan_to_num(values) ** 2
    ahead, behind = float(sq[lags + 1:].sum()), float(sq[:lags].sum())
    out.update(peak_lag_s=out["lags_s"][peak], peak_corr=corr[peak],
               lead_lag_ratio=ahead / behind if behind > 0 else None,
               leader="a" if peak > lags else "b" if peak < lags else "none")
    return out


def _basis_figures(grid: pl.DataFrame, spec: CrossVenueSpec) -> dict:
    basis = grid.filter("usable")["basis_bp"]
    if basis.len() == 0:
        return {"basis_bp": None, "basis_stability": None}
    dist = {"mean": basis.mean(), "std": basis.std(), "min": basis.min(),
            **{f"p{round(q * 100)}": basis.quantile(q, "linear") for q in QUANTILES}, "max": basis.max()}
    window = step_ns(spec.window_s)
    medians = (grid.filter("usable").group_by((pl.col("ts") // window) * window, maintain_order=True)
               .agg(pl.col("basis_bp").median().alias("median_bp"), pl.len().alias("points")))
    centred = (basis - basis.mean()).to_numpy()
    phi = _corr(centred[1:], centred[:-1]) if basis.len() > 3 else None
    half_life = -spec.step_s * math.log(2) / math.log(phi) if phi is not None and 0 < phi < 1 else None
    return {
        "basis_bp": dist,
        "basis_stability": {
            "window_s": spec.window_s,
            "window_medians_bp": medians["median_bp"].to_list(),
            "window_points": medians["points"].to_list(),
            "median_range_bp": float(medians["median_bp"].max() - medians["median_bp"].min()),
            "ar1": phi,
            "half_life_s": half_life,
        },
    }


def cross_venue(a: pl.DataFrame | pl.LazyFrame, b: pl.DataFrame | pl.LazyFrame,
                spec: CrossVenueSpec = CrossVenueSpec(), names: tuple[str, str] = ("a", "b")) -> dict:
    """Every figure of the module docstring for books ``a`` and ``b`` (``names`` label them in the
    episodes), plus the episodes themselves as a list of dicts."""
    grid = aligned(a, b, spec)
    usable_points = int(grid["usable"].sum())
    out = {"names": list(names), "step_s": spec.step_s, "grid_points": grid.height, "usable_points": usable_points,
           "start_ns": int(grid["ts"][0]) if grid.height else None,
           "end_ns": int(grid["ts"][-1]) if grid.height else None}
    out.update(_basis_figures(grid, spec))
    out["stale_share"] = {
        names[0]: float(grid["stale_a"].sum()) / usable_points if usable_points else None,
        names[1]: float(grid["stale_b"].sum()) / usable_points if usable_points else None,
    }
    out["stale_after_s"] = spec.stale_after_s
    out["lead_lag"] = lead_lag(grid, spec)
    out["episodes"] = episodes(grid, spec, names).to_dicts()
    return out


def figures_row(figures: dict) -> dict:
    """One flat row of :func:`cross_venue`'s figures (a table of pairs): basis distribution and
    stability, staleness, lead-lag, and the first episode; ``episode_list`` keeps them all."""
    a, b = figures["names"]
    basis, stability, ll = figures["basis_bp"] or {}, figures["basis_stability"] or {}, figures["lead_lag"]
    first = figures["episodes"][0] if figures["episodes"] else {}
    return {
        "venue_a": a, "venue_b": b, "grid_points": figures["grid_points"], "usable_points": figures["usable_points"],
        "start_ns": figures["start_ns"], "end_ns": figures["end_ns"],
        **{f"basis_{k}_bp": basis.get(k) for k in ("mean", "std", "min", *(f"p{round(q * 100)}" for q in QUANTILES), "max")},
        "basis_median_range_bp": stability.get("median_range_bp"), "basis_ar1": stability.get("ar1"),
        "basis_half_life_s": stability.get("half_life_s"),
        "stale_share_a": figures["stale_share"][a], "stale_share_b": figures["stale_share"][b],
        "lead_lag_peak_s": ll["peak_lag_s"], "lead_lag_peak_corr": ll["peak_corr"], "lead_lag_corr_at_0": ll["corr_at_0"],
        "lead_lag_ratio": ll["lead_lag_ratio"], "leader": {"a": a, "b": b}.get(ll["leader"], ll["leader"]),
        "episodes": len(figures["episodes"]),
        **{f"first_episode_{k}": first.get(k) for k in EPISODE_SCHEMA},
        "episode_list": json.dumps(figures["episodes"]),
    }
