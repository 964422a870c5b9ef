"""The instrument pairs the ``cross_venue`` asset compares, and its thresholds (``cross_venue_pairs``).

A pair names two streams of one instrument on two venues, by stream name (the ``stream``
dimension of the partitions): ``{"a": "spot-BTCUSDT", "b": "usdm-BTCUSDT"}``. The default is the
shipped Binance spot / USDⓈ-M BTCUSDT pair; a deployment lists its own in resource config::

    resources:
      cross_venue_pairs:
        config:
          pairs: [{a: spot-BTCUSDT, b: usdm-BTCUSDT}, {a: spot-ETHUSDT, b: usdm-ETHUSDT}]
          freeze_s: 5.0

Grid and thresholds mirror :class:`obrecon_pipeline.metrics.cross_venue.CrossVenueSpec` and take
their defaults from it. ``min_overlap_s``: a pair whose books share less usable time than this on
a day is not judged.
"""

from __future__ import annotations

import dagster as dg

from obrecon_pipeline.metrics.cross_venue import CrossVenueSpec

_D = CrossVenueSpec()


class VenuePair(dg.Config):
    a: str  #: stream name on the first venue (the basis is b over a)
    b: str  #: stream name on the second venue


class CrossVenuePairs(dg.ConfigurableResource):
    """Pairs of streams to compare per trading day, the grid and the thresholds of the check."""

    pairs: list[VenuePair] = [{"a": "spot-BTCUSDT", "b": "usdm-BTCUSDT"}]  # type: ignore[list-item]
    step_s: float = _D.step_s
    max_lag_s: float = _D.max_lag_s
    stale_after_s: float = _D.stale_after_s
    window_s: float = _D.window_s
    freeze_s: float = _D.freeze_s
    drift_bp: float = _D.drift_bp
    drift_window_s: float = _D.drift_window_s
    min_drift_s: float = _D.min_drift_s
    min_overlap_s: float = 60.0

    def stream_pairs(self) -> list[tuple[str, str]]:
        """``[(a, b), ...]`` (the default stays the dicts it is written as; config gives VenuePairs)."""
        return [(p["a"], p["b"]) if isinstance(p, dict) else (p.a, p.b) for p in self.pairs]

    def spec(self) -> CrossVenueSpec:
        return CrossVenueSpec(**{name: getattr(self, name) for name in CrossVenueSpec.__dataclass_fields__})
